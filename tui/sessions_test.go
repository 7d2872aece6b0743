package tui

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/spindle-sh/spindle/agent"
	"github.com/spindle-sh/spindle/keymap"
	"github.com/spindle-sh/spindle/store"
	"github.com/spindle-sh/spindle/tui/chat"
	"github.com/spindle-sh/spindle/tui/internal/tuitest"
	"github.com/spindle-sh/spindle/tui/theme"
)

// untilDialog waits for a dialog's command to answer (a page of sessions,
// a list of models) and applies it.
func (h *harness) untilDialog() tea.Msg {
	h.t.Helper()
	return h.until(func(msg tea.Msg) bool { _, ok := msg.(dialogMsg); return ok })
}

// untilMsg waits for a message of type T and applies it (with everything
// before it).
func untilMsg[T tea.Msg](h *harness) T {
	h.t.Helper()
	return h.until(func(msg tea.Msg) bool { _, ok := msg.(T); return ok }).(T)
}

// settle applies the answers of the dialogs' commands that are already
// running (pages the window asked for, the count) until none is left.
func (h *harness) settle() {
	h.t.Helper()
	for {
		o, ok := h.top().(*sessionsOverlay)
		if !ok || (len(o.loading) == 0 && (!o.counting || o.total >= 0)) {
			return
		}
		h.untilDialog()
	}
}

// top is the overlay on top, or nil.
func (h *harness) top() overlay {
	if n := len(h.m.overlays); n > 0 {
		return h.m.overlays[n-1]
	}
	return nil
}

// browser opens the session browser and waits for its first page.
func (h *harness) browser() *sessionsOverlay {
	h.t.Helper()
	h.command("/sessions")
	h.settle()
	o, ok := h.top().(*sessionsOverlay)
	if !ok {
		h.t.Fatalf("/sessions opened %T", h.top())
	}
	return o
}

// addSession stores a session of the kind with the messages (user and
// assistant in turn).
func addSession(t testing.TB, st *store.State, title string, kind store.SessionKind, texts ...string) store.Session {
	t.Helper()
	ctx := context.Background()
	s, err := st.StartSession(ctx, store.NewSession{Title: title, Kind: kind})
	if err != nil {
		t.Fatal(err)
	}
	for i, text := range texts {
		role := store.RoleUser
		if i%2 == 1 {
			role = store.RoleAssistant
		}
		if _, err := st.AddMessage(ctx, store.Message{SessionID: s.ID, Role: role, Content: text}); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// seedBrowser fills state.db with what the goldens show: chat sessions
// (one with a model recorded), a run, a worker's session and notes enough
// to scroll at 80×24.
func seedBrowser(t testing.TB, h *harness) {
	t.Helper()
	ctx := context.Background()
	for i := 1; i <= 18; i++ {
		addSession(t, h.state, fmt.Sprintf("notes %d", i), store.SessionChat, "note")
	}
	addSession(t, h.state, "spindle run: summarise the log", store.SessionRun, "summarise the log", "It says three things.")
	w, err := h.state.StartSession(ctx, store.NewSession{Title: "card #7: write the docs", Kind: store.SessionWorker, CardID: 7})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.state.AddMessage(ctx, store.Message{SessionID: w.ID, Role: store.RoleUser, Content: "write the docs"}); err != nil {
		t.Fatal(err)
	}
	plan := addSession(t, h.state, "Plan the release of version 2 with the whole team and every open question on the board",
		store.SessionChat, "What is left before the release?", "Three cards: the changelog, the migration note and a last round of benchmarks.")
	if err := h.state.SetSessionRoute(ctx, plan.ID, "local", "llama3.2"); err != nil {
		t.Fatal(err)
	}
	// The visible session.
	h.command(fmt.Sprintf("/resume %d", plan.ID))
	h.untilChat()
}

func TestGoldenSessions(t *testing.T) {
	tests := []struct {
		name string
		w, h int
		run  func(h *harness)
	}{
		{"open_120x40", 120, 40, func(h *harness) { h.browser() }},
		{"open_80x24", 80, 24, func(h *harness) { h.browser() }},
		{"scrolled_80x24", 80, 24, func(h *harness) {
			h.browser()
			h.key(tea.KeyPressMsg{Code: tea.KeyEnd})
			h.settle()
		}},
		{"search_80x24", 80, 24, func(h *harness) {
			h.browser()
			h.typeText("migration")
			h.settle()
		}},
		{"all_kinds_120x40", 120, 40, func(h *harness) {
			h.browser()
			h.key(tea.KeyPressMsg{Code: 't', Mod: tea.ModCtrl})
			h.settle()
		}},
		{"delete_question_80x24", 80, 24, func(h *harness) {
			h.browser()
			h.key(tea.KeyPressMsg{Code: tea.KeyDown})
			h.key(tea.KeyPressMsg{Code: 'd', Mod: tea.ModCtrl})
		}},
		{"rename_120x40", 120, 40, func(h *harness) {
			h.browser()
			h.key(tea.KeyPressMsg{Code: 'r', Mod: tea.ModCtrl})
		}},
		{"rename_edit_80x24", 80, 24, func(h *harness) {
			h.browser()
			h.key(tea.KeyPressMsg{Code: 'r', Mod: tea.ModCtrl})
			h.key(tea.KeyPressMsg{Code: tea.KeyEnd})
			h.typeText(" (draft)")
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.w, tc.h)
			seedBrowser(t, h)
			tc.run(h)
			checkScreen(t, h.m)
		})
	}
}

// TestSessionBrowserSearchesAndOpens: typing filters by title and by
// message text; Enter shows the session in the chat and closes the
// browser.
func TestSessionBrowserSearchesAndOpens(t *testing.T) {
	h := newHarness(t, 120, 40)
	bread := addSession(t, h.state, "Baking", store.SessionChat, "how long does sourdough rise?", "Four to twelve hours.")
	addSession(t, h.state, "Sourdough starter", store.SessionChat, "feeding schedule")
	addSession(t, h.state, "Taxes", store.SessionChat, "which forms?")
	o := h.browser()
	if o.total != 3 {
		t.Fatalf("total %d, want 3", o.total)
	}
	h.typeText("sourdough")
	h.settle()
	screen := h.screen()
	if !strings.Contains(screen, "Baking") || !strings.Contains(screen, "Sourdough starter") || strings.Contains(screen, "Taxes") {
		t.Fatalf("search sourdough:\n%s", screen)
	}
	// Down to Baking (older), whose match is in a message: the detail
	// line shows it.
	h.key(tea.KeyPressMsg{Code: tea.KeyDown})
	if !strings.Contains(h.screen(), "“how long does sourdough rise?”") {
		t.Fatalf("the match is not shown:\n%s", h.screen())
	}
	h.key(enter)
	h.untilChat()
	if len(h.m.overlays) != 0 || h.m.chat.Session().ID != bread.ID || !strings.Contains(h.screen(), "Four to twelve hours.") {
		t.Fatalf("Enter did not open session %d:\n%s", bread.ID, h.screen())
	}
}

// TestSessionBrowserDropsStaleAnswers: an answer to a query the person has
// since changed (typing on) is not shown; the same answer for the current
// query is (the negative control).
func TestSessionBrowserDropsStaleAnswers(t *testing.T) {
	h := newHarness(t, 120, 40)
	addSession(t, h.state, "alpha", store.SessionChat)
	o := h.browser()
	stale := sessionsPageMsg{o: o, seq: o.seq, rows: []store.SessionSummary{{Session: store.Session{ID: 99, Title: "from an older query"}}}}
	h.typeText("x")
	h.send(stale)
	if strings.Contains(h.screen(), "from an older query") {
		t.Fatal("an answer to an older query was shown")
	}
	h.settle()
	stale.seq = o.seq
	h.send(stale)
	if !strings.Contains(h.screen(), "from an older query") {
		t.Fatal("negative control: the same answer for the current query was not shown")
	}
}

// TestSessionBrowserKinds: sessions made by spindle run and by workers are
// hidden until the key shows them, marked by kind.
func TestSessionBrowserKinds(t *testing.T) {
	h := newHarness(t, 120, 40)
	addSession(t, h.state, "a chat", store.SessionChat)
	addSession(t, h.state, "a run", store.SessionRun)
	addSession(t, h.state, "a worker", store.SessionWorker)
	h.browser()
	if s := h.screen(); !strings.Contains(s, "a chat") || strings.Contains(s, "a run") || strings.Contains(s, "a worker") {
		t.Fatalf("by default:\n%s", s)
	}
	h.key(tea.KeyPressMsg{Code: 't', Mod: tea.ModCtrl})
	h.settle()
	s := h.screen()
	for _, want := range []string{"a chat", "a run", "a worker", "worker", "run"} {
		if !strings.Contains(s, want) {
			t.Errorf("with all kinds, %q is missing:\n%s", want, s)
		}
	}
}

// TestSessionBrowserRenames: the new title is saved, shown in the list and,
// for the visible session, in the chat's record.
func TestSessionBrowserRenames(t *testing.T) {
	h := newHarness(t, 120, 40)
	h.startTurn("hello")
	h.event(agent.Done{Text: "hi"})
	id := h.m.chat.Session().ID
	h.browser()
	h.key(tea.KeyPressMsg{Code: 'r', Mod: tea.ModCtrl})
	for range 10 {
		h.key(tea.KeyPressMsg{Code: tea.KeyBackspace})
	}
	h.typeText("Greetings")
	h.key(enter)
	untilMsg[sessionRenamedMsg](h)
	if s, _ := h.state.Session(context.Background(), id); s.Title != "Greetings" {
		t.Fatalf("stored title %q", s.Title)
	}
	if !strings.Contains(h.screen(), "Greetings") || h.m.chat.Session().Title != "Greetings" {
		t.Fatalf("the new title is not shown (chat has %q):\n%s", h.m.chat.Session().Title, h.screen())
	}
	// Esc while renaming cancels the rename, not the browser.
	h.key(tea.KeyPressMsg{Code: 'r', Mod: tea.ModCtrl})
	h.typeText("zzz")
	h.key(esc)
	if len(h.m.overlays) != 1 || strings.Contains(h.screen(), "zzz") {
		t.Fatalf("esc while renaming:\n%s", h.screen())
	}
}

// TestSessionBrowserDeletes: the question names the session; any key but
// the confirm key keeps it; y deletes it and its messages (the visible
// one's chat starts anew); a session that runs a turn is refused.
func TestSessionBrowserDeletes(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, 120, 40)
	other := addSession(t, h.state, "other", store.SessionChat, "keep me")
	h.startTurn("hello")
	h.event(agent.Done{Text: "hi"})
	visible := h.m.chat.Session().ID
	h.browser()

	h.key(tea.KeyPressMsg{Code: 'd', Mod: tea.ModCtrl})
	if !strings.Contains(h.screen(), fmt.Sprintf("Delete #%d", visible)) {
		t.Fatalf("no question:\n%s", h.screen())
	}
	h.typeText("n")
	if _, err := h.state.Session(ctx, visible); err != nil || !strings.Contains(h.screen(), "kept") {
		t.Fatalf("n deleted the session (%v):\n%s", err, h.screen())
	}

	h.key(tea.KeyPressMsg{Code: 'd', Mod: tea.ModCtrl})
	h.typeText("y")
	untilMsg[sessionDeletedMsg](h)
	h.settle()
	if _, err := h.state.Session(ctx, visible); err == nil {
		t.Fatal("y did not delete the session")
	}
	if h.m.chat.Session().ID != 0 {
		t.Errorf("the chat still shows deleted session %d", h.m.chat.Session().ID)
	}
	o := h.top().(*sessionsOverlay)
	if o.total != 1 || !strings.Contains(h.screen(), "deleted") || !strings.Contains(h.screen(), "other") {
		t.Fatalf("after the delete (total %d):\n%s", o.total, h.screen())
	}
	if msgs, err := h.state.Messages(ctx, other.ID); err != nil || len(msgs) != 1 {
		t.Errorf("the other session lost its messages: %v, %v", msgs, err)
	}

	// A session a worker is running a turn in cannot be deleted.
	h.ag.SetRunning(other.ID, true)
	h.key(tea.KeyPressMsg{Code: 'd', Mod: tea.ModCtrl})
	if o.confirm != nil || !strings.Contains(h.screen(), "stop it first") {
		t.Fatalf("a running session was offered for deletion:\n%s", h.screen())
	}
	h.typeText("y")
	if _, err := h.state.Session(ctx, other.ID); err != nil {
		t.Fatal("a running session was deleted")
	}
}

// TestSessionBrowserReachesEveryRow: at 80×24, with more sessions than
// three pages, moving down one row at a time shows every session exactly
// in order, and End reaches the oldest; nothing is cut off.
func TestSessionBrowserReachesEveryRow(t *testing.T) {
	h := newHarness(t, 80, 24)
	const n = 3*sessionsPageSize + 7
	seedState(t, h.state, n, 0)
	o := h.browser()
	var seen []int64
	for i := range n {
		s, ok := o.row(o.cursor)
		if !ok {
			t.Fatalf("row %d not loaded", i)
		}
		if !strings.Contains(h.screen(), fmt.Sprintf("› #%d ", s.ID)) {
			t.Fatalf("row %d (#%d) is not on screen:\n%s", i, s.ID, h.screen())
		}
		seen = append(seen, s.ID)
		h.key(tea.KeyPressMsg{Code: tea.KeyDown})
		h.settle()
	}
	want := make([]int64, n)
	for i := range want {
		want[i] = int64(n - i)
	}
	if !slices.Equal(seen, want) {
		t.Fatalf("rows seen %v…, want %v…", seen[:5], want[:5])
	}
	h.key(tea.KeyPressMsg{Code: tea.KeyHome})
	h.key(tea.KeyPressMsg{Code: tea.KeyEnd})
	h.settle()
	if !strings.Contains(h.screen(), "› #1 ") {
		t.Fatalf("End did not reach the oldest session:\n%s", h.screen())
	}
}

// seedState adds n chat sessions of per messages each to an open state.db
// in one transaction, through a second connection: the store writes one
// transaction per message, which would take minutes for 10,000 sessions.
// Session i's title is "session i"; every tenth one mentions a walrus.
func seedState(tb testing.TB, st *store.State, n, per int) {
	tb.Helper()
	db, err := sql.Open("sqlite", "file:"+st.Path()+"?_pragma=busy_timeout(10000)&_txlock=immediate")
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	tx, err := db.Begin()
	if err != nil {
		tb.Fatal(err)
	}
	defer tx.Rollback()
	now := time.Now().Add(-time.Hour).UnixMilli()
	for i := 1; i <= n; i++ {
		at := now + int64(i)*10
		res, err := tx.Exec(`INSERT INTO sessions (title, kind, created_at, updated_at) VALUES (?, 'chat', ?, ?)`, fmt.Sprintf("session %d", i), at, at+int64(per))
		if err != nil {
			tb.Fatal(err)
		}
		id, _ := res.LastInsertId()
		for j := range per {
			text := fmt.Sprintf("message %d of session %d about the board", j, i)
			if i%10 == 0 {
				text += " and a walrus"
			}
			if _, err := tx.Exec(`INSERT INTO messages (session_id, role, content, created_at) VALUES (?, ?, ?, ?)`,
				id, []string{"user", "assistant"}[j%2], text, at+int64(j)); err != nil {
				tb.Fatal(err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkSessionBrowser measures the session browser over a state.db of
// 10,000 sessions of four messages, as a person meets it: /sessions to
// the first frame with the first page (the command that reads it run in
// between), and one keystroke of a search to the frame with its answer.
// Targets: open ≤ 50 ms, keystroke ≤ 16 ms.
func BenchmarkSessionBrowser(b *testing.B) {
	st, board := tuitest.OpenStores(b)
	seedState(b, st, 10_000, 4)
	newModel := func() Model {
		m := New(Options{Agent: tuitest.NewAgent(), Sessions: st, Board: board, Keys: keymap.Default(), Palette: theme.Default()})
		tm, _ := m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
		return tm.(Model)
	}
	// run applies msg and then, one after another, the results of the
	// commands it returns that are the dialog's (pages, counts), until
	// the first page is in; the count is left for after the frame, as
	// on screen.
	step := func(m Model, msg tea.Msg) Model {
		tm, cmd := m.Update(msg)
		m = tm.(Model)
		for _, c := range flatten(cmd) {
			if r, ok := c().(sessionsPageMsg); ok {
				tm, _ = m.Update(r)
				m = tm.(Model)
			}
		}
		return m
	}
	b.Run("open", func(b *testing.B) {
		durations := make([]time.Duration, 0, b.N)
		for range b.N {
			m := newModel()
			start := time.Now()
			m = step(m, chat.CommandMsg{Name: "/sessions"})
			_ = m.View()
			durations = append(durations, time.Since(start))
			if o := m.overlays[0].(*sessionsOverlay); len(o.pages[0]) != sessionsPageSize {
				b.Fatalf("the first page holds %d sessions", len(o.pages[0]))
			}
		}
		reportPercentiles(b, durations)
	})
	b.Run("keystroke", func(b *testing.B) {
		m := step(newModel(), chat.CommandMsg{Name: "/sessions"})
		letters := "walrus board"
		durations := make([]time.Duration, 0, b.N)
		for i := range b.N {
			k := tea.KeyPressMsg{Code: rune(letters[i%len(letters)]), Text: string(letters[i%len(letters)])}
			if i%len(letters) == 0 {
				m.overlays[0].(*sessionsOverlay).search.Reset()
			}
			start := time.Now()
			m = step(m, k)
			_ = m.View()
			durations = append(durations, time.Since(start))
			if o := m.overlays[0].(*sessionsOverlay); o.pages[0] == nil {
				b.Fatalf("no answer to %q", o.search.Value())
			}
		}
		reportPercentiles(b, durations)
	})
}

// flatten lists the commands of a batch (nested batches too).
func flatten(cmd tea.Cmd) []tea.Cmd {
	if cmd == nil {
		return nil
	}
	var out []tea.Cmd
	var walk func(c tea.Cmd)
	walk = func(c tea.Cmd) {
		if c == nil {
			return
		}
		msg := c()
		if batch, ok := msg.(tea.BatchMsg); ok {
			for _, inner := range batch {
				walk(inner)
			}
			return
		}
		out = append(out, func() tea.Msg { return msg })
	}
	walk(cmd)
	return out
}

// reportPercentiles reports the median and the 99th percentile of d in
// milliseconds.
func reportPercentiles(b *testing.B, d []time.Duration) {
	b.Helper()
	if len(d) == 0 {
		return
	}
	slices.Sort(d)
	pct := func(p float64) float64 {
		return float64(d[min(len(d)-1, int(p*float64(len(d))))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}

// reverseRuns counts the runs of reverse-video text in a styled line: a
// text cursor (the virtual cursor draws one reversed cell) or a selection.
// The colour arguments of 38/48/58 are skipped, so that colour 7 is not
// taken for reverse video.
func reverseRuns(line string) int {
	runs, rev, inRun := 0, false, false
	for line != "" {
		i := strings.Index(line, "\x1b[")
		if i != 0 {
			// Text: a run starts where reversed text follows text that
			// was not.
			if rev && !inRun {
				runs++
			}
			inRun = rev
			if i < 0 {
				break
			}
			line = line[i:]
			continue
		}
		end := strings.IndexFunc(line[2:], func(r rune) bool { return r >= '@' && r <= '~' })
		if end < 0 {
			break
		}
		seq, final := line[2:2+end], line[2+end]
		line = line[3+end:]
		if final != 'm' {
			continue
		}
		params := strings.Split(seq, ";")
		for j := 0; j < len(params); j++ {
			switch params[j] {
			case "", "0", "27":
				rev = false
			case "7":
				rev = true
			case "38", "48", "58":
				if j+1 < len(params) && params[j+1] == "5" {
					j += 2
				} else if j+1 < len(params) && params[j+1] == "2" {
					j += 4
				}
			}
		}
	}
	return runs
}

// screenReverseRuns counts the reverse-video runs on the screen, line by
// line (the status bar left out), and returns the lines that hold any.
func screenReverseRuns(m Model) (int, []int) {
	lines := strings.Split(m.screen(), "\n")
	n, at := 0, []int(nil)
	for i, l := range lines[:len(lines)-1] {
		if r := reverseRuns(l); r > 0 {
			n += r
			at = append(at, i)
		}
	}
	return n, at
}

// lineWith returns the index of the first screen line holding s, -1 if none.
func lineWith(screen, s string) int {
	for i, l := range strings.Split(screen, "\n") {
		if strings.Contains(l, s) {
			return i
		}
	}
	return -1
}

// TestSessionBrowserRenameInPlace: ctrl+r edits the title in its row, with
// what the keys do on the line right under it, and one cursor on screen
// (the search field gives its up). The old title opens selected, as a
// file manager's rename does: the first character typed replaces it
// (typing "Connecting models" gives that title, not the old one with it
// appended), a delete key clears it, and an arrow or End edits it.
func TestSessionBrowserRenameInPlace(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, 120, 40)
	for i := range 6 {
		addSession(t, h.state, fmt.Sprintf("older %d", i), store.SessionChat, "hi")
	}
	s := addSession(t, h.state, "how do I connect a real model", store.SessionChat, "how?")
	o := h.browser()
	title := func() string {
		t.Helper()
		got, err := h.state.Session(ctx, s.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got.Title
	}
	rename := func(keys ...any) {
		t.Helper()
		h.key(tea.KeyPressMsg{Code: 'r', Mod: tea.ModCtrl})
		for _, k := range keys {
			switch k := k.(type) {
			case string:
				h.typeText(k)
			case tea.KeyPressMsg:
				h.key(k)
			}
		}
	}

	rename()
	screen := h.screen()
	row, hint := lineWith(screen, fmt.Sprintf("› #%d ", s.ID)), lineWith(screen, "enter saves")
	if row < 0 {
		t.Fatalf("no row for #%d:\n%s", s.ID, screen)
	}
	if hint != row+1 {
		t.Errorf("the rename's keys are on line %d, the row on line %d; want the line under the row:\n%s", hint, row, screen)
	} else if !strings.Contains(strings.Split(screen, "\n")[hint], "typing replaces the title") {
		t.Errorf("the hint does not say that typing replaces the title:\n%s", screen)
	}
	// The old title is selected: one reversed run (the selection), no
	// cursor anywhere, the search field's included.
	if n, at := screenReverseRuns(h.m); n != 1 || at[0] != row {
		t.Errorf("with the title selected: %d reversed runs on lines %v; want 1, the title on line %d", n, at, row)
	}

	h.typeText("Connecting models")
	if n, at := screenReverseRuns(h.m); n != 1 || at[0] != row {
		t.Errorf("while typing: %d cursors on lines %v; want 1, in the row on line %d", n, at, row)
	}
	// Negative control: the count sees a second cursor when the search
	// field keeps its own.
	o.search.Focus()
	if n, _ := screenReverseRuns(h.m); n != 2 {
		t.Errorf("negative control: with the search field focused too, %d cursors counted; want 2", n)
	}
	o.search.Blur()
	h.key(enter)
	untilMsg[sessionRenamedMsg](h)
	if got := title(); got != "Connecting models" {
		t.Errorf("typing over the selected title gave %q, want %q", got, "Connecting models")
	}
	if !o.search.Focused() || o.renaming {
		t.Errorf("after the rename the search field does not have the keyboard back")
	}

	tests := []struct {
		name string
		keys []any
		want string
	}{
		{"End edits the end", []any{tea.KeyPressMsg{Code: tea.KeyEnd}, " (draft)"}, "Connecting models (draft)"},
		{"right edits the end", []any{tea.KeyPressMsg{Code: tea.KeyRight}, "!"}, "Connecting models (draft)!"},
		{"Home edits the start", []any{tea.KeyPressMsg{Code: tea.KeyHome}, "On "}, "On Connecting models (draft)!"},
		{"backspace clears it", []any{tea.KeyPressMsg{Code: tea.KeyBackspace}, "Models"}, "Models"},
		{"a key that changes nothing keeps the selection", []any{tea.KeyPressMsg{Code: tea.KeyUp}, "Endpoints"}, "Endpoints"},
		{"enter on the old title keeps it", nil, "Endpoints"},
	}
	for _, tc := range tests {
		rename(tc.keys...)
		h.key(enter)
		if tc.keys != nil {
			untilMsg[sessionRenamedMsg](h)
		}
		if got := title(); got != tc.want {
			t.Errorf("%s: title %q, want %q", tc.name, got, tc.want)
		}
	}
	if !strings.Contains(h.screen(), "Endpoints") {
		t.Errorf("the list does not show the new title:\n%s", h.screen())
	}
}

// TestSessionColumns: the model column is as wide as the widest model
// name needs, up to half of what the fixed columns leave; the title takes
// the rest; the kind column is there only when every kind is listed.
func TestSessionColumns(t *testing.T) {
	tests := []struct {
		w, modelW    int
		kinds        bool
		title, model int
	}{
		{120, 22, false, 71, 22}, // "@offline/spindle-demo" whole
		{120, 22, true, 64, 22},
		{120, 200, false, 47, 46}, // capped: the title keeps at least as much
		{120, 0, false, 93, 0},    // no session has a model
		{120, 3, false, 87, 6},    // as wide as its header
		{80, 22, false, 31, 22},
		{40, 22, false, 13, 0}, // narrow: the model goes first
	}
	for _, tc := range tests {
		c := sessionColumns(tc.w, tc.modelW, tc.kinds)
		if c.title != tc.title || c.model != tc.model {
			t.Errorf("sessionColumns(%d, %d, %v): title %d, model %d; want %d, %d", tc.w, tc.modelW, tc.kinds, c.title, c.model, tc.title, tc.model)
		}
		if sum := 2 + c.id + c.title + c.kind + c.msgs + c.when + c.model; sum != tc.w {
			t.Errorf("sessionColumns(%d, …): the columns add up to %d", tc.w, sum)
		}
	}
}

// TestSessionBrowserShowsTheWholeModel: at 120×40 the demo model's name,
// "@offline/spindle-demo", is shown whole and a long title gets the room
// the model does not need; a model name longer than half the room is cut
// (the negative control: the check sees a cut name).
func TestSessionBrowserShowsTheWholeModel(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, 120, 40)
	long := "Plan the release of version 2 with the whole team and every open question on the board"
	s := addSession(t, h.state, long, store.SessionChat, "hi")
	if err := h.state.SetSessionRoute(ctx, s.ID, "@offline", "spindle-demo"); err != nil {
		t.Fatal(err)
	}
	h.browser()
	screen := h.screen()
	if !strings.Contains(screen, "@offline/spindle-demo ") {
		t.Errorf("the model is cut:\n%s", screen)
	}
	if !strings.Contains(screen, long[:68]) {
		t.Errorf("the title does not get the room the model leaves (want %q):\n%s", long[:68], screen)
	}

	wide := strings.Repeat("m", 60)
	w := addSession(t, h.state, "wide", store.SessionChat, "hi")
	if err := h.state.SetSessionRoute(ctx, w.ID, "@offline", wide); err != nil {
		t.Fatal(err)
	}
	h.key(esc)
	h.browser()
	screen = h.screen()
	if strings.Contains(screen, "@offline/"+wide) || !strings.Contains(screen, "@offline/mmm") || !strings.Contains(screen, "m…") {
		t.Errorf("negative control: a model wider than half the room is not cut:\n%s", screen)
	}
	if !strings.Contains(screen, long[:40]) {
		t.Errorf("a wide model took the title's room:\n%s", screen)
	}
}
