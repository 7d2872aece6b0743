package chat

import "github.com/spindle-sh/spindle/agent"

// Usage is the visible session's token figures, for the status bar: the
// tally of what was sent and received (agent.Tally: In, Out, Context,
// Estimated), the model's context window, and the cost where prices are
// configured.
type Usage struct {
	agent.Tally
	Window int     // the model's context window in tokens; 0 when unknown
	Cost   float64 // US dollars, when Priced
	Priced bool
}

// ContextReporter is what the chat asks the agent about the model's window
// and prices; *agent.Agent implements it. An agent that does not (a
// scripted one in a test) shows tokens without a window or a cost.
type ContextReporter interface {
	// ContextInfo is the model's context window in tokens, and whether it
	// is known.
	ContextInfo(model string) (window int, known bool)
	// Price is what the model costs in US dollars per million tokens sent
	// and received, when configured.
	Price(model string) (input, output float64, ok bool)
}

var _ ContextReporter = (*agent.Agent)(nil)

// usage is the visible session's Usage. The tally is the session's,
// shared with its running turn, which updates it as events arrive.
func (m Model) usage() Usage {
	u := Usage{Tally: *m.tally}
	cr, ok := m.agent.(ContextReporter)
	if !ok {
		return u
	}
	model := m.agent.Model()
	if w, known := cr.ContextInfo(model); known {
		u.Window = w
	}
	if in, out, priced := cr.Price(model); priced {
		u.Priced = true
		u.Cost = (float64(u.In)*in + float64(u.Out)*out) / 1e6
	}
	return u
}
