package dispatch

import (
	"context"
	"database/sql"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spindle-sh/spindle/store"
)

// TestStormChecksCatchBadBoards is the negative control of the storm's
// after-checks (checkBoardFile): on a small real board they pass, and each
// kind of damage or loss they look for, made on purpose, is reported.
func TestStormChecksCatchBadBoards(t *testing.T) {
	ctx := context.Background()
	// build makes a closed board with one card of the person's (created,
	// renamed, moved, commented on) and one agent card that ran once, and
	// the ledger and report that match it.
	build := func(t *testing.T) (string, *ledger, *stormReport) {
		path := filepath.Join(t.TempDir(), "kanban.db")
		b, err := store.OpenBoard(path)
		if err != nil {
			t.Fatal(err)
		}
		mine, err := b.Create(ctx, store.ActorMe, store.NewCard{Title: "mine"})
		if err != nil {
			t.Fatal(err)
		}
		title := "mine, renamed"
		if _, err := b.Edit(ctx, store.ActorMe, mine.ID, store.CardPatch{Title: &title}); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Move(ctx, store.ActorMe, mine.ID, store.Review, -1); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Comment(ctx, store.ActorMe, mine.ID, "a note"); err != nil {
			t.Fatal(err)
		}
		job, err := b.Create(ctx, store.ActorMe, store.NewCard{Title: "job", Assignee: store.AgentAssignee})
		if err != nil {
			t.Fatal(err)
		}
		run, err := b.Claim(ctx, job.ID, "host", 1, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.FinishRun(ctx, run.ID, store.RunEnd{Outcome: store.RunStopped, To: store.Blocked, Comment: "stopped by you"}); err != nil {
			t.Fatal(err)
		}
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
		led := &ledger{cards: map[int64]*expectation{
			mine.ID: {title: title, status: store.Review, moves: 1, comments: 1, edits: 1},
			job.ID:  {},
		}}
		rep := &stormReport{outcomes: map[store.RunOutcome]int{}, claimed: 1, finished: 1, stoppedEv: 1, stopCalls: 1}
		return path, led, rep
	}
	exec := func(t *testing.T, path, q string) {
		db, err := sql.Open("sqlite", "file:"+path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	writeAt := func(t *testing.T, path string, off int64) {
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.WriteAt(append(append([]byte{}, tlsRecordHead...), lateMarker...), off); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("a whole board passes", func(t *testing.T) {
		path, led, rep := build(t)
		checkBoardFile(rep, path, led)
		if len(rep.damage)+len(rep.problems) != 0 || rep.runs != 1 || rep.cards != 2 {
			t.Fatalf("damage %v, problems %v, %d runs, %d cards", rep.damage, rep.problems, rep.runs, rep.cards)
		}
	})

	cases := []struct {
		name    string
		spoil   func(t *testing.T, path string, led *ledger, rep *stormReport)
		damage  bool   // a damage finding, rather than a problem
		finding string // part of it
	}{
		{"the seed bug's record over the header", func(t *testing.T, path string, _ *ledger, _ *stormReport) {
			writeAt(t, path, 5)
		}, true, "TLS record"},
		{"the record inside a page", func(t *testing.T, path string, _ *ledger, _ *stormReport) {
			writeAt(t, path, 4096+1000)
		}, true, "17 03 03 00 13"},
		{"an acknowledged comment lost", func(t *testing.T, path string, _ *ledger, _ *stormReport) {
			exec(t, path, `DELETE FROM card_events WHERE kind = 'commented' AND actor = 'me'`)
		}, false, "comments by me recorded"},
		{"an acknowledged rename lost", func(t *testing.T, path string, _ *ledger, _ *stormReport) {
			exec(t, path, `UPDATE cards SET title = 'mine' WHERE title = 'mine, renamed'`)
		}, false, "has title"},
		{"an acknowledged card lost", func(t *testing.T, path string, _ *ledger, _ *stormReport) {
			exec(t, path, `DELETE FROM cards WHERE title = 'job'`)
		}, false, "is missing"},
		{"a claim left behind", func(t *testing.T, path string, _ *ledger, _ *stormReport) {
			exec(t, path, `INSERT INTO claims (card_id, run_id, host, pid, claimed_at, heartbeat_at, expires_at) VALUES (99, 99, 'h', 1, 0, 0, 0)`)
		}, false, "claims left"},
		{"a card left Running", func(t *testing.T, path string, _ *ledger, _ *stormReport) {
			exec(t, path, `UPDATE cards SET status = 'running' WHERE title = 'job'`)
		}, false, "still in Running"},
		{"a run never ended", func(t *testing.T, path string, _ *ledger, _ *stormReport) {
			exec(t, path, `UPDATE runs SET outcome = 'running', ended_at = NULL`)
		}, false, "never ended"},
		{"a run row for no claim", func(t *testing.T, _ string, _ *ledger, rep *stormReport) {
			rep.claimed, rep.finished = 0, 0
		}, false, "run rows for 0 claims"},
		{"a claim that never finished", func(t *testing.T, _ string, _ *ledger, rep *stormReport) {
			rep.claimed = 2
		}, false, "runs finished"},
		{"a stop the board did not record", func(t *testing.T, _ string, _ *ledger, rep *stormReport) {
			rep.stoppedEv = 2
		}, false, "stopped by you"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path, led, rep := build(t)
			tc.spoil(t, path, led, rep)
			checkBoardFile(rep, path, led)
			got := rep.problems
			if tc.damage {
				got = rep.damage
			}
			if !strings.Contains(strings.Join(got, "\n"), tc.finding) {
				t.Errorf("not reported (want %q): damage %v, problems %v", tc.finding, rep.damage, rep.problems)
			}
		})
	}
}

// TestWALFinding: the monitor's look at the -wal sees a header that is no
// longer a WAL's and the late record anywhere in it, and passes a real one.
func TestWALFinding(t *testing.T) {
	dir := t.TempDir()
	good := make([]byte, 4096)
	binary.BigEndian.PutUint32(good, 0x377f0682)
	binary.BigEndian.PutUint32(good[4:], 3007000)
	record := append(append([]byte{}, tlsRecordHead...), lateMarker...)
	overwritten := append(append([]byte{}, record...), good[len(record):]...)
	inside := append([]byte{}, good...)
	copy(inside[1000:], record)
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"a WAL", good, ""},
		{"header overwritten", overwritten, "not a WAL header"},
		{"record inside", inside, "late TLS record at byte 1000"},
		{"too short to judge", []byte{1, 2, 3}, ""},
	} {
		path := filepath.Join(dir, tc.name+"-wal")
		if err := os.WriteFile(path, tc.data, 0o600); err != nil {
			t.Fatal(err)
		}
		got := walFinding(path)
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
	if got := walFinding(filepath.Join(dir, "missing-wal")); got != "" {
		t.Errorf("a missing -wal: %q", got)
	}
}
