package dispatch

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/spindle-sh/spindle/store"
)

// benchBoard makes a kanban.db with n cards spread over the five columns,
// a fifth of them (the To do column) assigned to the agent, and opens it.
// The rows go in through one SQL transaction on the file before the store
// opens it (n separate commits would take minutes); the store's own
// migrations made the schema.
func benchBoard(b *testing.B, n int) (*store.Board, []int64) {
	b.Helper()
	path := filepath.Join(b.TempDir(), "kanban.db")
	board, err := store.OpenBoard(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := board.Close(); err != nil {
		b.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		b.Fatal(err)
	}
	tx, err := db.Begin()
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now().UnixMilli()
	rank := map[store.Status]int64{}
	var runnable []int64
	for i := range n {
		st := store.Columns[i%len(store.Columns)]
		if st == store.Running {
			st = store.Blocked // nothing runs yet: no claims
		}
		assignee := store.Me
		if st == store.Todo {
			assignee = store.AgentAssignee
		}
		res, err := tx.Exec(`INSERT INTO cards (title, body, status, rank, priority, assignee, created_at, updated_at)
			VALUES (?, 'some body text for the card', ?, ?, 1, ?, ?, ?)`, fmt.Sprintf("card %d", i), string(st), rank[st]*1024, string(assignee), now, now)
		if err != nil {
			b.Fatal(err)
		}
		rank[st]++
		id, _ := res.LastInsertId()
		if _, err := tx.Exec(`INSERT INTO card_events (card_id, kind, actor, text, at) VALUES (?, 'created', 'me', 'seed', ?)`, id, now); err != nil {
			b.Fatal(err)
		}
		if st == store.Todo {
			runnable = append(runnable, id)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	if err := db.Close(); err != nil {
		b.Fatal(err)
	}
	board, err = store.OpenBoard(path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { board.Close() })
	return board, runnable
}

// processCPU is the process's user+system CPU time so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportLatency(b *testing.B, lat []time.Duration, cpu time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[min(int(float64(len(lat))*p), len(lat)-1)].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(len(lat)), "cpu-ms/op")
}

// BenchmarkClaim is one claim of a card (Board.Claim: the immediate
// transaction that checks the card, records the run, writes the claim and
// moves the card to Running) on a board of 10,000 cards. Between claims,
// untimed, the run is finished and the card goes back to To do, so every
// claim finds the board as the dispatcher does. Target: p99 ≤ 10 ms.
//
// The runnable+claim case is the dispatcher's whole step for one free
// worker: Runnable(1), then Claim of the card it returns.
func BenchmarkClaim(b *testing.B) {
	board, runnable := benchBoard(b, 10000)
	ctx := context.Background()
	release := func(run store.Run) {
		if _, err := board.FinishRun(ctx, run.ID, store.RunEnd{Outcome: store.RunStopped, To: store.Todo}); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("claim", func(b *testing.B) {
		rng := rand.New(rand.NewPCG(1, 2))
		var lat []time.Duration
		var cpu time.Duration
		for b.Loop() {
			id := runnable[rng.IntN(len(runnable))]
			c0, t0 := processCPU(), time.Now()
			run, err := board.Claim(ctx, id, "bench", 1, time.Minute)
			lat = append(lat, time.Since(t0))
			cpu += processCPU() - c0
			if err != nil {
				b.Fatal(err)
			}
			release(run)
		}
		reportLatency(b, lat, cpu)
	})
	b.Run("runnable+claim", func(b *testing.B) {
		var lat []time.Duration
		var cpu time.Duration
		for b.Loop() {
			c0, t0 := processCPU(), time.Now()
			cards, err := board.Runnable(ctx, 1)
			if err != nil || len(cards) != 1 {
				b.Fatalf("runnable: %v %v", cards, err)
			}
			run, err := board.Claim(ctx, cards[0].ID, "bench", 1, time.Minute)
			lat = append(lat, time.Since(t0))
			cpu += processCPU() - c0
			if err != nil {
				b.Fatal(err)
			}
			release(run)
		}
		reportLatency(b, lat, cpu)
	})
}
