package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// openTestState opens a new state.db in a temporary directory.
func openTestState(tb testing.TB) *State {
	tb.Helper()
	s, err := OpenState(filepath.Join(tb.TempDir(), "state.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// say adds messages to a session, alternating user and assistant.
func say(tb testing.TB, s *State, id int64, texts ...string) {
	tb.Helper()
	for i, text := range texts {
		role := RoleUser
		if i%2 == 1 {
			role = RoleAssistant
		}
		if _, err := s.AddMessage(context.Background(), Message{SessionID: id, Role: role, Content: text}); err != nil {
			tb.Fatal(err)
		}
	}
}

func start(tb testing.TB, s *State, title string, kind SessionKind) Session {
	tb.Helper()
	se, err := s.StartSession(context.Background(), NewSession{Title: title, Kind: kind})
	if err != nil {
		tb.Fatal(err)
	}
	return se
}

func pageIDs(tb testing.TB, s *State, q SessionQuery) []int64 {
	tb.Helper()
	page, err := s.SessionPage(context.Background(), q)
	if err != nil {
		tb.Fatal(err)
	}
	ids := []int64{}
	for _, r := range page {
		ids = append(ids, r.ID)
	}
	return ids
}

func TestSessionPageOrderCountsAndKinds(t *testing.T) {
	ctx := context.Background()
	s := openTestState(t)
	a := start(t, s, "alpha", SessionChat)
	run := start(t, s, "a run", SessionRun)
	b := start(t, s, "beta", SessionChat)
	worker := start(t, s, "a worker", SessionWorker)
	say(t, s, a.ID, "one", "two", "three")
	say(t, s, run.ID, "go")

	page, err := s.SessionPage(ctx, SessionQuery{})
	if err != nil {
		t.Fatal(err)
	}
	want := []int64{run.ID, a.ID, worker.ID, b.ID}
	if got := pageIDs(t, s, SessionQuery{}); !slices.Equal(got, want) {
		t.Fatalf("every session: %v, want %v (most recent activity first)", got, want)
	}
	all, _ := s.Sessions(ctx)
	for i, r := range page {
		if r.Session != all[i] {
			t.Errorf("row %d: %+v, Sessions has %+v", i, r.Session, all[i])
		}
	}
	if page[1].Messages != 3 || page[0].Messages != 1 || page[3].Messages != 0 {
		t.Errorf("message counts %d %d %d, want 3 1 0", page[1].Messages, page[0].Messages, page[3].Messages)
	}
	msgs, _ := s.Messages(ctx, a.ID)
	if !page[1].LastActivity.Equal(msgs[2].CreatedAt) {
		t.Errorf("last activity %v, want the last message's time %v", page[1].LastActivity, msgs[2].CreatedAt)
	}
	if !page[3].LastActivity.Equal(b.CreatedAt) {
		t.Errorf("last activity of an empty session %v, want its creation %v", page[3].LastActivity, b.CreatedAt)
	}

	if got := pageIDs(t, s, SessionQuery{Kinds: []SessionKind{SessionChat}}); !slices.Equal(got, []int64{a.ID, b.ID}) {
		t.Errorf("chat sessions: %v, want %v", got, []int64{a.ID, b.ID})
	}
	if got := pageIDs(t, s, SessionQuery{Kinds: []SessionKind{SessionRun, SessionWorker}}); !slices.Equal(got, []int64{run.ID, worker.ID}) {
		t.Errorf("run and worker sessions: %v", got)
	}
	if got := pageIDs(t, s, SessionQuery{Offset: 1, Limit: 2}); !slices.Equal(got, want[1:3]) {
		t.Errorf("offset 1 limit 2: %v, want %v", got, want[1:3])
	}
	if got := pageIDs(t, s, SessionQuery{Offset: 10}); len(got) != 0 {
		t.Errorf("past the end: %v", got)
	}
	for _, tc := range []struct {
		q    SessionQuery
		want int
	}{
		{SessionQuery{}, 4},
		{SessionQuery{Kinds: []SessionKind{SessionChat}}, 2},
		{SessionQuery{Text: "ta"}, 1}, // "beta": titles only (short)
		{SessionQuery{Text: "thr"}, 1},
	} {
		if n, err := s.SessionCount(ctx, tc.q); err != nil || n != tc.want {
			t.Errorf("SessionCount(%+v) = %d, %v; want %d", tc.q, n, err, tc.want)
		}
	}
	if _, err := s.SessionPage(ctx, SessionQuery{Kinds: []SessionKind{"robot"}}); err == nil {
		t.Error("an unknown kind was accepted")
	}
}

func TestSessionPageSearch(t *testing.T) {
	ctx := context.Background()
	s := openTestState(t)
	title := start(t, s, "Deploy the Spindle server", SessionChat)
	body := start(t, s, "untitled", SessionChat)
	tool := start(t, s, "tools", SessionChat)
	odd := start(t, s, `100% of a_b "quoted"`, SessionChat)
	say(t, s, body.ID, "how do I read a stream?", strings.Repeat("filler ", 20)+"Use a bufio.Scanner on the body"+strings.Repeat(" more", 100))
	if _, err := s.AddMessage(ctx, Message{SessionID: tool.ID, Role: RoleTool, ToolCallID: "c1", Content: "bufio.Scanner appears in a file"}); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		text string
		want []int64
	}{
		{"spindle", []int64{title.ID}},            // title, any case
		{"BUFIO.scanner", []int64{body.ID}},       // a reply, any case; never the tool result
		{"read a stream", []int64{body.ID}},       // across words
		{"de", []int64{title.ID}},                 // short: titles only
		{"re", []int64{}},                         // in "stream" and "read", but too short for messages
		{"100%", []int64{odd.ID}},                 // LIKE's wildcards are literal
		{"a_b", []int64{odd.ID}},                  //
		{`"quoted"`, []int64{odd.ID}},             // quotes do not break the FTS query
		{"nowhere to be found", []int64{}},        //
		{"  spindle  ", []int64{title.ID}},        // trimmed
		{"ead a str", []int64{body.ID}},           // any substring
		{"scanner in the body", []int64{}},        // not a substring
		{"SCANNER ON THE BODY", []int64{body.ID}}, //
	} {
		if got := pageIDs(t, s, SessionQuery{Text: tc.text}); !slices.Equal(got, tc.want) {
			t.Errorf("search %q: %v, want %v", tc.text, got, tc.want)
		}
	}

	page, err := s.SessionPage(ctx, SessionQuery{Text: "bufio"})
	if err != nil || len(page) != 1 {
		t.Fatalf("search bufio: %v, %v", page, err)
	}
	msgs, _ := s.Messages(ctx, body.ID)
	if page[0].MatchID != msgs[1].ID {
		t.Errorf("match id %d, want the reply %d", page[0].MatchID, msgs[1].ID)
	}
	if m := page[0].Match; !strings.Contains(m, "bufio.Scanner") || utf8.RuneCountInString(m) > matchLen+2 ||
		!strings.HasPrefix(m, "…") || !strings.HasSuffix(m, "…") || strings.HasPrefix(m, "…filler filler filler filler") {
		t.Errorf("match %q: want the text around bufio.Scanner, at most %d characters, cut at both ends", m, matchLen)
	}
	if page, _ := s.SessionPage(ctx, SessionQuery{Text: "read a str"}); len(page) != 1 || page[0].Match != "how do I read a stream?" {
		t.Errorf("a short message's match: %+v", page)
	}
	if page, _ := s.SessionPage(ctx, SessionQuery{Text: "spindle"}); page[0].MatchID != 0 || page[0].Match != "" {
		t.Errorf("a title match has a message match: %+v", page[0])
	}
}

// TestDeleteSession: the messages go with the session (ON DELETE CASCADE,
// which needs foreign keys on in the writer), search no longer finds them,
// and the board is not touched.
func TestDeleteSession(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := OpenState(filepath.Join(dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	b, err := OpenBoard(filepath.Join(dir, "kanban.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	card, err := b.Create(ctx, ActorMe, NewCard{Title: "write the docs"})
	if err != nil {
		t.Fatal(err)
	}
	keep := start(t, s, "keep", SessionChat)
	gone, err := s.StartSession(ctx, NewSession{Title: "worker", Kind: SessionWorker, CardID: card.ID})
	if err != nil {
		t.Fatal(err)
	}
	say(t, s, keep.ID, "zebra kept")
	say(t, s, gone.ID, "zebra gone", "a reply")

	var fk int
	if err := s.db.w.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil || fk != 1 {
		t.Fatalf("foreign_keys on the writer = %d, %v; want 1", fk, err)
	}
	if err := s.DeleteSession(ctx, gone.ID); err != nil {
		t.Fatal(err)
	}
	if n := orphans(t, s.db.r, gone.ID); n != 0 {
		t.Errorf("%d messages of the deleted session remain", n)
	}
	if got := pageIDs(t, s, SessionQuery{Text: "zebra"}); !slices.Equal(got, []int64{keep.ID}) {
		t.Errorf("search after delete: %v, want only %d", got, keep.ID)
	}
	var indexed int
	if err := s.db.r.QueryRowContext(ctx, `SELECT count(*) FROM messages_fts WHERE session_id = ?`, gone.ID).Scan(&indexed); err != nil || indexed != 0 {
		t.Errorf("search entries of the deleted session: %d, %v", indexed, err)
	}
	if _, err := s.Session(ctx, gone.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("Session after delete: %v", err)
	}
	if err := s.DeleteSession(ctx, gone.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("second delete: %v, want ErrNotFound", err)
	}
	if c, err := b.Get(ctx, card.ID); err != nil || c.Title != "write the docs" {
		t.Errorf("the worker's card after deleting its session: %+v, %v", c, err)
	}
	if msgs, err := s.Messages(ctx, keep.ID); err != nil || len(msgs) != 1 {
		t.Errorf("the other session's messages: %v, %v", msgs, err)
	}

	// Negative control: the same delete on a connection with foreign keys
	// off leaves the messages behind, and orphans sees them.
	other := start(t, s, "other", SessionChat)
	say(t, s, other.ID, "left behind")
	s.Close()
	raw, err := sql.Open("sqlite", dsn(filepath.Join(dir, "state.db"), map[string][]string{"_pragma": {"foreign_keys(0)"}}))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.ExecContext(ctx, `DELETE FROM sessions WHERE id = ?`, other.ID); err != nil {
		t.Fatal(err)
	}
	if n := orphans(t, raw, other.ID); n == 0 {
		t.Error("negative control: with foreign keys off the messages should have stayed")
	}
}

func orphans(t *testing.T, db *sql.DB, sessionID int64) int {
	t.Helper()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM messages WHERE session_id = ?`, sessionID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestSearchIndexBuiltForOldFiles: a state.db made before migration 5 gets
// its existing messages indexed when it is opened.
func TestSearchIndexBuiltForOldFiles(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	old := stateKind
	old.migrations = stateMigrations[:4]
	d, err := openDB(path, old)
	if err != nil {
		t.Fatal(err)
	}
	err = d.write(ctx, func(tx *wtx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO sessions (id, title, created_at, updated_at) VALUES (1, 'old', 1, 1)`); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO messages (session_id, role, content, created_at) VALUES
			(1, 'user', 'an old walrus', 1), (1, 'tool', 'a tool walrus', 1)`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.close(); err != nil {
		t.Fatal(err)
	}
	s, err := OpenState(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	page, err := s.SessionPage(ctx, SessionQuery{Text: "walrus"})
	if err != nil || len(page) != 1 || page[0].ID != 1 || page[0].Match != "an old walrus" || page[0].Endpoint != "" {
		t.Fatalf("search in a migrated file: %+v, %v", page, err)
	}
}

func TestSetSessionRoute(t *testing.T) {
	ctx := context.Background()
	s := openTestState(t)
	se := start(t, s, "x", SessionChat)
	if err := s.SetSessionRoute(ctx, se.ID, "local", "llama3:8b"); err != nil {
		t.Fatal(err)
	}
	got, err := s.Session(ctx, se.ID)
	if err != nil || got.Endpoint != "local" || got.Model != "llama3:8b" || !got.UpdatedAt.Equal(se.UpdatedAt) {
		t.Fatalf("after SetSessionRoute: %+v, %v", got, err)
	}
	if err := s.SetSessionRoute(ctx, 999, "", "m"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown session: %v", err)
	}
}

// TestContinueSkipsRunAndWorkerSessions: --continue resumes LastSession,
// which is the last chat session even when `spindle run` and a worker were
// busy since.
func TestContinueSkipsRunAndWorkerSessions(t *testing.T) {
	ctx := context.Background()
	s := openTestState(t)
	chat := start(t, s, "chat", SessionChat)
	say(t, s, chat.ID, "hello")
	run := start(t, s, "run", SessionRun)
	say(t, s, run.ID, "later")
	worker := start(t, s, "worker", SessionWorker)
	say(t, s, worker.ID, "latest")
	last, err := s.LastSession(ctx)
	if err != nil || last.ID != chat.ID {
		t.Fatalf("LastSession = %+v, %v; want the chat session %d", last, err, chat.ID)
	}
	// The check can fail: the run is the most recent session of all.
	if all := pageIDs(t, s, SessionQuery{}); all[0] == chat.ID {
		t.Fatal("negative control: the chat session should not be the most recent")
	}
}

// seedSessions fills a new state.db with n chat sessions (every tenth one a
// run, every twentieth a worker's) of perSession messages each, in one
// transaction. The words come from a fixed vocabulary, so that searches
// find realistic numbers of sessions.
func seedSessions(tb testing.TB, n, perSession int) *State {
	tb.Helper()
	s := openTestState(tb)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(3, 4))
	words := strings.Fields(`the a stream reply card board model tool file error test build deploy server client
		request socket interrupt session message token kanban column review agent worker queue retry backoff header
		database migration index search cursor page window render frame spinner status config endpoint key theme`)
	for i := range 400 {
		words = append(words, fmt.Sprintf("w%03dx", i))
	}
	sentence := func(k int) string {
		out := make([]string, k)
		for i := range out {
			out[i] = words[rng.IntN(len(words))]
		}
		return strings.Join(out, " ")
	}
	tx, err := s.db.w.BeginTx(ctx, nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer tx.Rollback()
	t0 := time.Now().Add(-time.Duration(n) * time.Minute).UnixMilli()
	for i := range n {
		kind := SessionChat
		switch {
		case i%20 == 0:
			kind = SessionWorker
		case i%10 == 0:
			kind = SessionRun
		}
		at := t0 + int64(i)*60_000
		res, err := tx.Exec(`INSERT INTO sessions (title, kind, created_at, updated_at) VALUES (?, ?, ?, ?)`, sentence(4), string(kind), at, at+int64(perSession))
		if err != nil {
			tb.Fatal(err)
		}
		id, _ := res.LastInsertId()
		for j := range perSession {
			role := RoleUser
			if j%2 == 1 {
				role = RoleAssistant
			}
			if _, err := tx.Exec(`INSERT INTO messages (session_id, role, content, created_at) VALUES (?, ?, ?, ?)`,
				id, string(role), sentence(12+rng.IntN(60)), at+int64(j)); err != nil {
				tb.Fatal(err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		tb.Fatal(err)
	}
	return s
}

// BenchmarkSessionBrowser measures the session browser's queries over
// 10,000 sessions of four messages: opening (the first page of chat
// sessions, then the count), and one keystroke of a search (a page of
// sessions whose title or messages hold the text). Targets: open ≤ 50 ms,
// keystroke ≤ 16 ms.
func BenchmarkSessionBrowser(b *testing.B) {
	s := seedSessions(b, 10_000, 4)
	ctx := context.Background()
	chat := []SessionKind{SessionChat}
	run := func(b *testing.B, q SessionQuery, count bool) {
		durations := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for range b.N {
			start := time.Now()
			if _, err := s.SessionPage(ctx, q); err != nil {
				b.Fatal(err)
			}
			if count {
				if _, err := s.SessionCount(ctx, q); err != nil {
					b.Fatal(err)
				}
			}
			durations = append(durations, time.Since(start))
		}
		b.StopTimer()
		reportPercentiles(b, durations)
	}
	b.Run("open", func(b *testing.B) { run(b, SessionQuery{Kinds: chat, Limit: 40}, false) })
	b.Run("open+count", func(b *testing.B) { run(b, SessionQuery{Kinds: chat, Limit: 40}, true) })
	b.Run("last_page", func(b *testing.B) { run(b, SessionQuery{Kinds: chat, Limit: 40, Offset: 8960}, false) })
	for _, text := range []string{"so", "sock", "w123x", "interrupt the", "the"} {
		b.Run("search_"+strings.ReplaceAll(text, " ", "_"), func(b *testing.B) { run(b, SessionQuery{Text: text, Kinds: chat, Limit: 40}, false) })
	}
	b.Run("count_the", func(b *testing.B) { run(b, SessionQuery{Text: "the", Kinds: chat, Limit: 1}, true) })
}
