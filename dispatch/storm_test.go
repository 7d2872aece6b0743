package dispatch

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spindle-sh/spindle/agent"
	"github.com/spindle-sh/spindle/store"
)

// The product-level interrupt storm: the seed bug's scenario with
// spindle's real parts. Four workers stream from the offline demo model
// (loopback TLS, a per-process certificate) through their own socket
// owners; a stranger goroutine stops them at random moments through
// Dispatcher.Stop (the board pane's x); the person edits the board from
// other goroutines; `spindle kanban` invocations (each a *store.Board of
// its own on the same file, opened, written and closed, as another
// process would) write and sometimes stop a worker through the claims
// table. Afterwards the harness checks kanban.db from outside.
//
// With the seed bug switched on (storm_unsafe_test.go, build tag
// spindle_unsafe) the same harness must report the damage.

// tlsRecordHead is the seed bug's record header (TLS 1.3 application data,
// 19 bytes): a late write's fingerprint in a file.
var tlsRecordHead = []byte{0x17, 0x03, 0x03, 0x00, 0x13}

// lateMarker is the negative control's 19 bytes after tlsRecordHead
// (transport.SeedBugRecord); searching for it too costs nothing.
var lateMarker = []byte("spindle-late-flush!")

// stormStops is how many stops the storm makes: SPINDLE_DISPATCH_STORM_N,
// else 500, or 100 under -short or the race detector.
func stormStops(t *testing.T) int {
	if s := os.Getenv("SPINDLE_DISPATCH_STORM_N"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			t.Fatalf("SPINDLE_DISPATCH_STORM_N=%q: want a positive integer", s)
		}
		return n
	}
	if testing.Short() || raceEnabled {
		return 100
	}
	return 500
}

// stormOptions shape one storm.
type stormOptions struct {
	stops int // Dispatcher.Stop calls that found a worker, then the storm ends
	// untilDamage ends the storm as soon as damage is seen (the negative
	// control: after that the board refuses writes and nothing more can be
	// learned).
	untilDamage bool
	// limit bounds the storm's length; reaching it is a finding.
	limit time.Duration
}

// stormReport is what one storm saw. damage lists the findings that
// kanban.db was damaged; problems every other check that failed.
type stormReport struct {
	elapsed time.Duration

	stopCalls int64 // Dispatcher.Stop calls that found a worker
	cliStops  int64 // RequestStop calls that found a claim (spindle kanban stop)
	claimed   int64 // Claimed events
	finished  int64 // Finished events
	recovered int64 // Recovered events
	stoppedEv int64 // Finished events with outcome stopped, to Blocked

	personEdits int64 // acknowledged writes by the person
	cliEdits    int64 // acknowledged writes by spindle kanban
	cliOpens    int64 // spindle kanban invocations (board opened and closed)
	writeErrors int64 // writes by the person or spindle kanban that failed
	aborts      int   // stranger abort lines in the log

	runs     int                      // rows in the runs table
	outcomes map[store.RunOutcome]int // runs by outcome
	cards    int

	mu       sync.Mutex
	damage   []string
	problems []string
}

func (r *stormReport) addDamage(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.damage) < 20 && !slices.Contains(r.damage, msg) {
		r.damage = append(r.damage, msg)
	}
}

func (r *stormReport) problem(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.problems) < 30 {
		r.problems = append(r.problems, fmt.Sprintf(format, args...))
	}
}

func (r *stormReport) damaged() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.damage) > 0
}

func (r *stormReport) String() string {
	var outs []string
	for o, n := range r.outcomes {
		outs = append(outs, fmt.Sprintf("%s=%d", o, n))
	}
	sort.Strings(outs)
	return fmt.Sprintf("elapsed=%s stops=%d (ended stopped: %d) cli_stops=%d claims=%d finished=%d recovered=%d runs=%d {%s} cards=%d person_edits=%d cli_edits=%d cli_opens=%d write_errors=%d abort_lines=%d damage=%d problems=%d",
		r.elapsed.Round(time.Millisecond), r.stopCalls, r.stoppedEv, r.cliStops, r.claimed, r.finished, r.recovered,
		r.runs, strings.Join(outs, " "), r.cards, r.personEdits, r.cliEdits, r.cliOpens, r.writeErrors, r.aborts,
		len(r.damage), len(r.problems))
}

// expectation is what the acknowledged writes of the person and of
// spindle kanban (both the actor "me") say about one card.
type expectation struct {
	title    string       // "" when no acknowledged write fixes it
	status   store.Status // "" when others (workers) move the card too
	moves    int          // acknowledged moves that changed the column
	comments int
	edits    int
}

// ledger records acknowledged writes: a write counts only once the call
// that made it has returned without error.
type ledger struct {
	mu    sync.Mutex
	cards map[int64]*expectation
}

func (l *ledger) note(id int64, f func(e *expectation)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.cards[id]
	if e == nil {
		e = &expectation{}
		l.cards[id] = e
	}
	f(e)
}

// card returns a copy of card id's expectation.
func (l *ledger) card(id int64) (expectation, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.cards[id]
	if !ok {
		return expectation{}, false
	}
	return *e, true
}

// stormCountHandler counts the stranger abort lines without keeping the log.
type stormCountHandler struct {
	aborts  *atomic.Int64
	offTIDs *atomic.Int64
}

func (h stormCountHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelInfo }
func (h stormCountHandler) WithAttrs([]slog.Attr) slog.Handler           { return h }
func (h stormCountHandler) WithGroup(string) slog.Handler                { return h }
func (h stormCountHandler) Handle(_ context.Context, r slog.Record) error {
	switch {
	case strings.Contains(r.Message, "deferred_close=stranger_thread"):
		h.aborts.Add(1)
	case strings.Contains(r.Message, "off the owner's thread"):
		h.offTIDs.Add(1)
	}
	return nil
}

// runDispatchStorm runs one storm in a fresh data directory and checks
// what it left.
func runDispatchStorm(t *testing.T, opt stormOptions) *stormReport {
	t.Helper()
	rep := &stormReport{outcomes: map[store.RunOutcome]int{}}
	dir := t.TempDir()
	boardPath := filepath.Join(dir, "kanban.db")
	st, err := store.OpenState(filepath.Join(dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := store.OpenBoard(boardPath)
	if err != nil {
		t.Fatal(err)
	}
	var aborts, offThread atomic.Int64
	logger := slog.New(stormCountHandler{aborts: &aborts, offTIDs: &offThread})
	a, err := agent.New(agent.Config{State: st, Board: b, Logger: logger, OfflineTokenDelay: time.Millisecond, MaxRetries: 1})
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	closeAll := func() {
		if closed {
			return
		}
		closed = true
		if err := a.Close(); err != nil {
			rep.problem("close the agent: %v", err)
		}
		if err := b.Close(); err != nil {
			rep.problem("close the board: %v", err)
		}
		if err := st.Close(); err != nil {
			rep.problem("close state.db: %v", err)
		}
	}
	t.Cleanup(closeAll)

	ctx := context.Background()
	led := &ledger{cards: map[int64]*expectation{}}
	var agentCards, myCards struct {
		sync.Mutex
		ids []int64
	}
	// The board to start with: work for the agent and cards of the person.
	for i := range 12 {
		c, err := b.Create(ctx, store.ActorMe, store.NewCard{Title: fmt.Sprintf("agent job %d", i), Body: "Do the thing.", Assignee: store.AgentAssignee, Priority: store.PriorityNormal})
		if err != nil {
			t.Fatal(err)
		}
		led.note(c.ID, func(e *expectation) {})
		agentCards.ids = append(agentCards.ids, c.ID)
	}
	for i := range 8 {
		c, err := b.Create(ctx, store.ActorMe, store.NewCard{Title: fmt.Sprintf("my card %d", i), Priority: store.PriorityNormal})
		if err != nil {
			t.Fatal(err)
		}
		led.note(c.ID, func(e *expectation) { e.title, e.status = c.Title, store.Todo })
		myCards.ids = append(myCards.ids, c.ID)
	}

	d := New(Config{Board: b, Agent: a, Sessions: st, MaxWorkers: 4, Logger: logger,
		Tick: 20 * time.Millisecond, HeartbeatEvery: 20 * time.Millisecond})
	runCtx, cancelRun := context.WithCancel(ctx)
	runDone := make(chan struct{})
	go func() { d.Run(runCtx); close(runDone) }()

	// The events, as spindle work reads them.
	evDone := make(chan struct{})
	evQuit := make(chan struct{})
	countEvent := func(e Event) {
		switch e.Kind {
		case Claimed:
			atomic.AddInt64(&rep.claimed, 1)
		case Finished:
			atomic.AddInt64(&rep.finished, 1)
			if e.Outcome == store.RunStopped && e.To == store.Blocked {
				atomic.AddInt64(&rep.stoppedEv, 1)
			}
		case Recovered:
			atomic.AddInt64(&rep.recovered, 1)
		}
	}
	go func() {
		defer close(evDone)
		for {
			select {
			case e := <-d.Events():
				countEvent(e)
			case <-evQuit:
				return
			}
		}
	}()

	start := time.Now()
	quit := make(chan struct{})
	var actors sync.WaitGroup
	done := func() bool {
		select {
		case <-quit:
			return true
		default:
			return false
		}
	}
	pause := func(rng *rand.Rand, max time.Duration) {
		select {
		case <-quit:
		case <-time.After(time.Duration(rng.Int64N(int64(max)))):
		}
	}

	// The damage monitor: the board's own header check (a pread through
	// the store's descriptor: closing a descriptor of our own on kanban.db
	// would drop SQLite's locks) and the -wal's header and contents (the
	// WAL carries no POSIX lock, so reading it through a descriptor of our
	// own is harmless).
	actors.Go(func() {
		for !done() {
			if err := b.Damaged(); err != nil {
				rep.addDamage("while open: %v", err)
			}
			if f := walFinding(boardPath + "-wal"); f != "" {
				rep.addDamage("%s", f)
			}
			select {
			case <-quit:
			case <-time.After(5 * time.Millisecond):
			}
		}
	})

	// The stranger: stops a running worker at a random moment.
	actors.Go(func() {
		rng := rand.New(rand.NewPCG(rand.Uint64(), 1))
		for !done() {
			ws := d.Snapshot()
			ws = slices.DeleteFunc(ws, func(w Worker) bool { return w.Stopping })
			if len(ws) == 0 {
				pause(rng, 2*time.Millisecond)
				continue
			}
			w := ws[rng.IntN(len(ws))]
			pause(rng, 80*time.Millisecond)
			if d.Stop(w.CardID) {
				atomic.AddInt64(&rep.stopCalls, 1)
			}
		}
	})

	// The person: edits, moves, comments, new cards, and runs stopped or
	// reviewed agent cards again (r on the board), acknowledged once the
	// call returns.
	actors.Go(func() {
		rng := rand.New(rand.NewPCG(rand.Uint64(), 2))
		for n := 0; !done(); n++ {
			pause(rng, 6*time.Millisecond)
			var err error
			switch op := rng.IntN(10); {
			case op < 3: // run an agent card again
				var cards []store.Card
				if cards, err = b.List(ctx, false); err != nil {
					break
				}
				var again []store.Card
				for _, c := range cards {
					if c.Assignee == store.AgentAssignee && (c.Status == store.Blocked || c.Status == store.Review) {
						again = append(again, c)
					}
				}
				if len(again) == 0 {
					continue
				}
				c := again[rng.IntN(len(again))]
				if _, err = b.Move(ctx, store.ActorMe, c.ID, store.Todo, -1); err == nil {
					led.note(c.ID, func(e *expectation) { e.moves++ })
				}
			case op < 4: // a new card, sometimes for the agent
				nc := store.NewCard{Title: fmt.Sprintf("person card %d", n), Priority: store.PriorityNormal}
				agentCard := rng.IntN(3) == 0
				if agentCard {
					nc.Assignee = store.AgentAssignee
				}
				var c store.Card
				if c, err = b.Create(ctx, store.ActorMe, nc); err == nil {
					if agentCard {
						led.note(c.ID, func(e *expectation) {})
						agentCards.Lock()
						agentCards.ids = append(agentCards.ids, c.ID)
						agentCards.Unlock()
					} else {
						led.note(c.ID, func(e *expectation) { e.title, e.status = c.Title, store.Todo })
						myCards.Lock()
						myCards.ids = append(myCards.ids, c.ID)
						myCards.Unlock()
					}
				}
			case op < 6: // move one of the person's cards
				myCards.Lock()
				id := myCards.ids[rng.IntN(len(myCards.ids))]
				myCards.Unlock()
				cur, _ := led.card(id)
				to := []store.Status{store.Todo, store.Blocked, store.Review, store.Done}[rng.IntN(4)]
				if to == cur.status {
					continue
				}
				if _, err = b.Move(ctx, store.ActorMe, id, to, rng.IntN(3)); err == nil {
					led.note(id, func(e *expectation) { e.status = to; e.moves++ })
				}
			case op < 8: // rename one of the person's cards
				myCards.Lock()
				id := myCards.ids[rng.IntN(len(myCards.ids))]
				myCards.Unlock()
				title := fmt.Sprintf("my card, edit %d", n)
				if _, err = b.Edit(ctx, store.ActorMe, id, store.CardPatch{Title: &title}); err == nil {
					led.note(id, func(e *expectation) { e.title = title; e.edits++ })
				}
			default: // comment on any card, running ones too
				var id int64
				if rng.IntN(2) == 0 {
					agentCards.Lock()
					id = agentCards.ids[rng.IntN(len(agentCards.ids))]
					agentCards.Unlock()
				} else {
					myCards.Lock()
					id = myCards.ids[rng.IntN(len(myCards.ids))]
					myCards.Unlock()
				}
				if _, err = b.Comment(ctx, store.ActorMe, id, fmt.Sprintf("note %d from the person", n)); err == nil {
					led.note(id, func(e *expectation) { e.comments++ })
				}
			}
			if err != nil {
				atomic.AddInt64(&rep.writeErrors, 1)
				if !errors.Is(err, store.ErrCorrupt) {
					rep.problem("the person's write failed: %v", err)
				}
				continue
			}
			atomic.AddInt64(&rep.personEdits, 1)
		}
	})

	// spindle kanban: each invocation opens the board, writes, and closes
	// it, as another process would; sometimes it is `spindle kanban stop`.
	actors.Go(func() {
		rng := rand.New(rand.NewPCG(rand.Uint64(), 3))
		var mine []int64
		for n := 0; !done(); n++ {
			pause(rng, 15*time.Millisecond)
			cli, err := store.OpenBoard(boardPath)
			if err != nil {
				atomic.AddInt64(&rep.writeErrors, 1)
				if !errors.Is(err, store.ErrCorrupt) {
					rep.problem("spindle kanban: open: %v", err)
				}
				continue
			}
			atomic.AddInt64(&rep.cliOpens, 1)
			switch op := rng.IntN(12); {
			case op < 2 || len(mine) == 0: // spindle kanban add
				var c store.Card
				if c, err = cli.Create(ctx, store.ActorMe, store.NewCard{Title: fmt.Sprintf("cli card %d", n), Priority: store.PriorityNormal}); err == nil {
					led.note(c.ID, func(e *expectation) { e.title, e.status = c.Title, store.Todo })
					mine = append(mine, c.ID)
				}
			case op == 2: // spindle kanban stop ID
				var claims []store.Claim
				if claims, err = cli.Claims(ctx); err == nil && len(claims) > 0 {
					c := claims[rng.IntN(len(claims))]
					if _, serr := cli.RequestStop(ctx, c.CardID); serr == nil {
						atomic.AddInt64(&rep.cliStops, 1)
					} else if !errors.Is(serr, store.ErrNotRunning) {
						err = serr
					}
				}
			case op < 7: // spindle kanban move ID COLUMN
				id := mine[rng.IntN(len(mine))]
				cur, _ := led.card(id)
				to := []store.Status{store.Todo, store.Review, store.Done, store.Archived}[rng.IntN(4)]
				if to != cur.status {
					if _, err = cli.Move(ctx, store.ActorMe, id, to, -1); err == nil {
						led.note(id, func(e *expectation) { e.status = to; e.moves++ })
					}
				}
			default: // spindle kanban comment ID TEXT
				id := mine[rng.IntN(len(mine))]
				if _, err = cli.Comment(ctx, store.ActorMe, id, fmt.Sprintf("cli note %d", n)); err == nil {
					led.note(id, func(e *expectation) { e.comments++ })
				}
			}
			if cerr := cli.Close(); cerr != nil && err == nil {
				err = cerr
			}
			if err != nil {
				atomic.AddInt64(&rep.writeErrors, 1)
				if !errors.Is(err, store.ErrCorrupt) {
					rep.problem("spindle kanban: %v", err)
				}
				continue
			}
			atomic.AddInt64(&rep.cliEdits, 1)
		}
	})

	// Until enough stops, the damage (negative control) or the limit.
	for {
		if atomic.LoadInt64(&rep.stopCalls) >= int64(opt.stops) {
			break
		}
		if opt.untilDamage && rep.damaged() {
			break
		}
		if time.Since(start) > opt.limit {
			rep.problem("the storm reached its limit of %s after %d of %d stops", opt.limit, atomic.LoadInt64(&rep.stopCalls), opt.stops)
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(quit)
	actors.Wait()

	// Quit: every worker still running is stopped and its card goes back
	// to To do; Run returns once they have ended.
	cancelRun()
	select {
	case <-runDone:
	case <-time.After(guard):
		t.Fatal("the dispatcher's Run did not return")
	}
	close(evQuit)
	<-evDone
	for drained := false; !drained; {
		select {
		case e := <-d.Events():
			countEvent(e)
		default:
			drained = true
		}
	}
	rep.elapsed = time.Since(start)
	if err := b.Damaged(); err != nil {
		rep.addDamage("after the storm: %v", err)
	}
	if n := offThread.Load(); n > 0 {
		rep.problem("%d reap or finish calls off the owner's thread", n)
	}
	closeAll()
	rep.aborts = int(aborts.Load())

	checkBoardFile(rep, boardPath, led)
	return rep
}

// walFinding looks at a -wal file from outside: its header's magic and
// version, and whether a late TLS record is anywhere in it. "" when fine
// or absent.
func walFinding(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil || len(data) < 32 {
		return ""
	}
	if m := binary.BigEndian.Uint32(data[0:4]); m != 0x377f0682 && m != 0x377f0683 {
		return fmt.Sprintf("%s: not a WAL header any more: % x", filepath.Base(path), data[:24])
	}
	if i := bytes.Index(data, lateMarker); i >= 0 {
		return fmt.Sprintf("%s: a late TLS record at byte %d", filepath.Base(path), max(i-len(tlsRecordHead), 0))
	}
	return ""
}

// checkBoardFile checks kanban.db once every handle is closed: the header
// (store.ValidateHeader), no late TLS record bytes, PRAGMA integrity_check,
// legal columns, runs and claims against the dispatcher's events, and every
// acknowledged write of the person and of spindle kanban.
func checkBoardFile(rep *stormReport, path string, led *ledger) {
	if err := store.ValidateHeader(path, store.BoardAppID); err != nil {
		rep.addDamage("header: %v", err)
	}
	for _, p := range []string{path, path + "-wal"} {
		data, err := os.ReadFile(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			rep.problem("read %s: %v", p, err)
			continue
		}
		if i := bytes.Index(data, tlsRecordHead); i >= 0 {
			rep.addDamage("%s: TLS record bytes 17 03 03 00 13 at offset %d", filepath.Base(p), i)
		}
		if i := bytes.Index(data, lateMarker); i >= 0 {
			rep.addDamage("%s: the late write's marker at offset %d", filepath.Base(p), i)
		}
	}
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		rep.problem("open %s read-only: %v", path, err)
		return
	}
	defer db.Close()
	var ic string
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&ic); err != nil || ic != "ok" {
		rep.addDamage("integrity_check: %q %v", ic, err)
		return
	}
	q := func(query string, args ...any) int {
		var n int
		if err := db.QueryRow(query, args...).Scan(&n); err != nil {
			rep.problem("%s: %v", query, err)
		}
		return n
	}
	rep.cards = q(`SELECT count(*) FROM cards`)
	if n := q(`SELECT count(*) FROM cards WHERE status NOT IN ('todo', 'running', 'blocked', 'review', 'done', 'archived')`); n > 0 {
		rep.problem("%d cards in no legal column", n)
	}
	if n := q(`SELECT count(*) FROM cards WHERE status = 'running'`); n > 0 {
		rep.problem("%d cards still in Running after the dispatcher quit", n)
	}
	if n := q(`SELECT count(*) FROM claims`); n > 0 {
		rep.problem("%d claims left after the dispatcher quit", n)
	}
	rows, err := db.Query(`SELECT outcome, count(*) FROM runs GROUP BY outcome`)
	if err != nil {
		rep.problem("runs: %v", err)
		return
	}
	for rows.Next() {
		var o string
		var n int
		if err := rows.Scan(&o, &n); err != nil {
			rep.problem("runs: %v", err)
		}
		rep.outcomes[store.RunOutcome(o)] = n
		rep.runs += n
	}
	rows.Close()
	// One run row per claim, each ended exactly once.
	if int64(rep.runs) != rep.claimed {
		rep.problem("%d run rows for %d claims", rep.runs, rep.claimed)
	}
	if rep.finished+rep.recovered != rep.claimed {
		rep.problem("%d claims but %d runs finished and %d recovered", rep.claimed, rep.finished, rep.recovered)
	}
	if n := rep.outcomes[store.RunRunning]; n > 0 {
		rep.problem("%d runs never ended", n)
	}
	if n := rep.outcomes[store.RunCrashed]; n > 0 {
		rep.problem("%d runs recorded crashed: no process died", n)
	}
	if got, want := int64(q(`SELECT count(*) FROM runs r JOIN card_events e ON e.card_id = r.card_id
		AND e.kind = 'commented' AND e.text = 'stopped by you' AND e.at = r.ended_at`)), rep.stoppedEv; got != want {
		rep.problem("%d runs ended \"stopped by you\" on the board, %d by the events", got, want)
	}
	if rep.stoppedEv > rep.stopCalls+rep.cliStops {
		rep.problem("%d runs stopped by you, but only %d stops were made", rep.stoppedEv, rep.stopCalls+rep.cliStops)
	}

	// Every acknowledged write of the person and of spindle kanban.
	led.mu.Lock()
	defer led.mu.Unlock()
	for id, e := range led.cards {
		var title, status string
		if err := db.QueryRow(`SELECT title, status FROM cards WHERE id = ?`, id).Scan(&title, &status); err != nil {
			rep.problem("card %d, created and acknowledged, is missing: %v", id, err)
			continue
		}
		if e.title != "" && title != e.title {
			rep.problem("card %d has title %q, want %q", id, title, e.title)
		}
		if e.status != "" && store.Status(status) != e.status {
			rep.problem("card %d is in %s, want %s", id, status, e.status)
		}
		count := func(kind store.EventKind) int {
			return q(`SELECT count(*) FROM card_events WHERE card_id = ? AND actor = 'me' AND kind = ?`, id, string(kind))
		}
		if n := count(store.EventCreated); n != 1 {
			rep.problem("card %d: %d created events by me", id, n)
		}
		if n := count(store.EventMoved); n != e.moves {
			rep.problem("card %d: %d moves by me recorded, %d acknowledged", id, n, e.moves)
		}
		if n := count(store.EventCommented); n != e.comments {
			rep.problem("card %d: %d comments by me recorded, %d acknowledged", id, n, e.comments)
		}
		if n := count(store.EventEdited); n != e.edits {
			rep.problem("card %d: %d edits by me recorded, %d acknowledged", id, n, e.edits)
		}
	}
}

// TestInterruptStormThroughTheDispatcher is the seed bug's scenario at the
// product level (see the top of this file): after the stops, kanban.db is
// whole (valid header, no TLS record bytes, integrity_check ok), every
// acknowledged write of the person and of spindle kanban is there, every
// card is in a legal column, there is exactly one run row per claim, each
// ended, and no claim is left.
func TestInterruptStormThroughTheDispatcher(t *testing.T) {
	n := stormStops(t)
	rep := runDispatchStorm(t, stormOptions{stops: n, limit: 10 * time.Minute})
	t.Logf("storm: %s", rep)
	for _, d := range rep.damage {
		t.Errorf("damage: %s", d)
	}
	for _, p := range rep.problems {
		t.Errorf("%s", p)
	}
	if rep.stopCalls < int64(n) {
		t.Errorf("only %d of %d stops were made", rep.stopCalls, n)
	}
	if rep.stoppedEv == 0 || rep.aborts == 0 {
		t.Errorf("no stop interrupted a running turn (%d runs ended stopped, %d stranger aborts logged): the storm did not storm", rep.stoppedEv, rep.aborts)
	}
	if rep.cliOpens == 0 || rep.personEdits == 0 || rep.cliEdits == 0 {
		t.Errorf("the person or spindle kanban wrote nothing: %s", rep)
	}
}
