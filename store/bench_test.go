package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"
)

// seedBoard fills a new board with n cards spread over the five columns,
// in one transaction (n separate commits would take minutes of fsyncs).
func seedBoard(tb testing.TB, n int) (*Board, []int64) {
	tb.Helper()
	b, err := OpenBoard(filepath.Join(tb.TempDir(), "kanban.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { b.Close() })
	ids := make([]int64, 0, n)
	ctx := context.Background()
	tx, err := b.db.w.BeginTx(ctx, nil)
	if err != nil {
		tb.Fatal(err)
	}
	now := nowMilli()
	pos := map[Status]int{}
	for i := range n {
		st := Columns[i%len(Columns)]
		res, err := tx.Exec(`INSERT INTO cards (title, body, status, rank, priority, assignee, created_at, updated_at)
			VALUES (?, ?, ?, ?, 1, 'me', ?, ?)`, fmt.Sprintf("card %d", i), "some body text for the card", string(st), int64(pos[st])*rankGap, now, now)
		if err != nil {
			tb.Fatal(err)
		}
		pos[st]++
		id, _ := res.LastInsertId()
		ids = append(ids, id)
		if err := addEvent(ctx, &wtx{Tx: tx, d: b.db}, id, EventCreated, "me", "seed", now, nil); err != nil {
			tb.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		tb.Fatal(err)
	}
	return b, ids
}

// cpuTime is the process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportPercentiles(b *testing.B, d []time.Duration) {
	slices.Sort(d)
	pct := func(p float64) float64 {
		return float64(d[min(len(d)-1, int(p*float64(len(d))))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}

// BenchmarkMove measures one committed card move (a random card to a random
// column and position) on a board of 10,000 cards. Target: p99 ≤ 5 ms.
func BenchmarkMove(b *testing.B) {
	board, ids := seedBoard(b, 10000)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	durations := make([]time.Duration, 0, b.N)
	cpu0 := cpuTime()
	b.ResetTimer()
	for range b.N {
		id := ids[rng.IntN(len(ids))]
		to := Columns[rng.IntN(len(Columns))]
		start := time.Now()
		if _, err := board.Move(ctx, "me", id, to, rng.IntN(2100)-50); err != nil {
			b.Fatal(err)
		}
		durations = append(durations, time.Since(start))
	}
	b.StopTimer()
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
	reportPercentiles(b, durations)
}

// BenchmarkList measures loading a 10,000-card board.
func BenchmarkList(b *testing.B) {
	board, _ := seedBoard(b, 10000)
	ctx := context.Background()
	durations := make([]time.Duration, 0, b.N)
	cpu0 := cpuTime()
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		cards, err := board.List(ctx, true)
		if err != nil || len(cards) != 10000 {
			b.Fatalf("List = %d cards, %v", len(cards), err)
		}
		durations = append(durations, time.Since(start))
	}
	b.StopTimer()
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
	reportPercentiles(b, durations)
}

// BenchmarkOpen measures opening a 10,000-card board: "first" as the first
// open in a process (header check and integrity_check), "again" with the
// integrity check cached.
func BenchmarkOpen(b *testing.B) {
	board, _ := seedBoard(b, 10000)
	path := board.Path()
	board.Close()
	key, err := canonical(path)
	if err != nil {
		b.Fatal(err)
	}
	for _, first := range []bool{true, false} {
		name := map[bool]string{true: "first", false: "again"}[first]
		b.Run(name, func(b *testing.B) {
			cpu0 := cpuTime()
			for range b.N {
				if first {
					registry.Lock()
					delete(registry.checked, key)
					registry.Unlock()
				}
				o, err := OpenBoard(path)
				if err != nil {
					b.Fatal(err)
				}
				o.Close()
			}
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
		})
	}
}
