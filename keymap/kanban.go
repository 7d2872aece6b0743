package keymap

import "charm.land/bubbles/v2/key"

// Kanban holds the kanban pane's bindings. The board bindings work while the
// board (or a card's detail) is shown; the form bindings (Submit, Save,
// Cancel, Confirm) work while a form, the filter or a confirmation has the
// keyboard. Ctrl-C is not here: it is Global.Interrupt, and the root model
// turns it into a cancelled form when no stream runs.
type Kanban struct {
	Up    key.Binding
	Down  key.Binding
	Left  key.Binding
	Right key.Binding

	New     key.Binding
	Edit    key.Binding
	Open    key.Binding
	Comment key.Binding
	Delete  key.Binding

	MovePrev key.Binding
	MoveNext key.Binding
	MoveDown key.Binding
	MoveUp   key.Binding

	Priority key.Binding
	Assignee key.Binding
	Undo     key.Binding
	// UndoCard, in a card's detail, undoes that card's latest change
	// whoever made it (the agent's, a worker's): Undo only ever undoes the
	// person's own.
	UndoCard       key.Binding
	Filter         key.Binding
	ToggleArchived key.Binding

	// StopWorker stops the agent worker running the selected card (it
	// goes to Blocked); Rerun puts a Blocked or Review card back in To do
	// for a worker to run again; PauseWorkers pauses and resumes claiming
	// cards; AnswerWorker opens the approval dialog of a worker that waits.
	StopWorker   key.Binding
	Rerun        key.Binding
	PauseWorkers key.Binding
	AnswerWorker key.Binding
	// Submit goes from a form's title to its body, saves a comment and
	// applies the filter.
	Submit key.Binding
	// Save saves a card form from either field.
	Save key.Binding
	// Cancel leaves a form, the filter, a confirmation or a card's detail
	// without saving.
	Cancel key.Binding
	// Confirm accepts a confirmation; any other key declines it.
	Confirm key.Binding
}

func defaultKanban() Kanban {
	return Kanban{
		Up:    key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:  key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		Left:  key.NewBinding(key.WithKeys("left", "h"), key.WithHelp("←/h", "left")),
		Right: key.NewBinding(key.WithKeys("right", "l"), key.WithHelp("→/l", "right")),

		New:     key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "new card")),
		Edit:    key.NewBinding(key.WithKeys("e"), key.WithHelp("e", "edit")),
		Open:    key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "open card")),
		Comment: key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "comment")),
		Delete:  key.NewBinding(key.WithKeys("d"), key.WithHelp("d", "delete")),

		MovePrev: key.NewBinding(key.WithKeys("H", "<"), key.WithHelp("H/<", "move to previous column")),
		MoveNext: key.NewBinding(key.WithKeys("L", ">"), key.WithHelp("L/>", "move to next column")),
		MoveDown: key.NewBinding(key.WithKeys("J"), key.WithHelp("J", "move down")),
		MoveUp:   key.NewBinding(key.WithKeys("K"), key.WithHelp("K", "move up")),

		Priority:       key.NewBinding(key.WithKeys("p"), key.WithHelp("p", "cycle priority")),
		Assignee:       key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "assign me/agent")),
		Undo:           key.NewBinding(key.WithKeys("u"), key.WithHelp("u", "undo my last change")),
		UndoCard:       key.NewBinding(key.WithKeys("U"), key.WithHelp("U", "undo this card's last change (anyone's)")),
		Filter:         key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
		ToggleArchived: key.NewBinding(key.WithKeys("A"), key.WithHelp("A", "show/hide archived")),

		StopWorker:   key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "stop its worker")),
		Rerun:        key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "run it again")),
		PauseWorkers: key.NewBinding(key.WithKeys("P"), key.WithHelp("P", "pause/resume workers")),
		AnswerWorker: key.NewBinding(key.WithKeys("!"), key.WithHelp("!", "answer its worker's approval")),
		Submit:       key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "next / submit")),
		Save:         key.NewBinding(key.WithKeys("ctrl+s"), key.WithHelp("ctrl+s", "save")),
		Cancel:       key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel / back")),
		Confirm:      key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "confirm")),
	}
}

func (k *Kanban) register(pane string, m map[string]*key.Binding) {
	m[pane+".up"] = &k.Up
	m[pane+".down"] = &k.Down
	m[pane+".left"] = &k.Left
	m[pane+".right"] = &k.Right
	m[pane+".new"] = &k.New
	m[pane+".edit"] = &k.Edit
	m[pane+".open"] = &k.Open
	m[pane+".comment"] = &k.Comment
	m[pane+".delete"] = &k.Delete
	m[pane+".move_prev"] = &k.MovePrev
	m[pane+".move_next"] = &k.MoveNext
	m[pane+".move_down"] = &k.MoveDown
	m[pane+".move_up"] = &k.MoveUp
	m[pane+".priority"] = &k.Priority
	m[pane+".assignee"] = &k.Assignee
	m[pane+".undo"] = &k.Undo
	m[pane+".undo_card"] = &k.UndoCard
	m[pane+".stop_worker"] = &k.StopWorker
	m[pane+".rerun"] = &k.Rerun
	m[pane+".pause_workers"] = &k.PauseWorkers
	m[pane+".answer_worker"] = &k.AnswerWorker
	m[pane+".filter"] = &k.Filter
	m[pane+".toggle_archived"] = &k.ToggleArchived
	m[pane+".submit"] = &k.Submit
	m[pane+".save"] = &k.Save
	m[pane+".cancel"] = &k.Cancel
	m[pane+".confirm"] = &k.Confirm
}

// ShortHelp is the kanban pane's one-line help.
func (k Kanban) ShortHelp() []key.Binding {
	return []key.Binding{k.New, k.Open, k.MoveNext, k.Filter, k.Undo}
}

// FullHelp is the kanban pane's help, grouped: navigation, card actions,
// moving cards, and forms.
func (k Kanban) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Up, k.Down, k.Left, k.Right, k.Open},
		{k.New, k.Edit, k.Comment, k.Delete, k.Priority, k.Assignee},
		{k.MovePrev, k.MoveNext, k.MoveUp, k.MoveDown, k.Undo, k.UndoCard, k.Filter, k.ToggleArchived},
		{k.StopWorker, k.Rerun, k.PauseWorkers, k.AnswerWorker},
		{k.Submit, k.Save, k.Cancel, k.Confirm},
	}
}
