package kanban

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/spindle-sh/spindle/store"
)

// bigBoard is n synthetic cards spread evenly over the five columns.
func bigBoard(n int) []store.Card {
	cards := make([]store.Card, 0, n)
	per := n / len(store.Columns)
	for ci, st := range store.Columns {
		for p := range per {
			id := int64(ci*per + p + 1)
			cards = append(cards, store.Card{
				ID: id, Title: fmt.Sprintf("Card number %d with a longish title", id), Status: st, Position: p,
				Priority: store.Priority(p % 4), Assignee: store.Me, CreatedAt: t0, UpdatedAt: t0,
			})
		}
	}
	return cards
}

func benchModel(b *testing.B, n int) Model {
	b.Helper()
	m := newPane(nil, nil)
	// A board is needed for keys to act; writes are not run here.
	m.board = &store.Board{}
	m.poll = 0
	m.SetSize(120, 40)
	m.Focus()
	m, _ = m.Update(loadedMsg{cards: bigBoard(n), version: 1})
	return m
}

// BenchmarkView renders the board at 120×40 with 10 and 10,000 cards: the
// cost must depend on what is visible, not on the board's size.
func BenchmarkView(b *testing.B) {
	for _, n := range []int{10, 100, 10000} {
		b.Run(fmt.Sprintf("cards=%d", n), func(b *testing.B) {
			m := benchModel(b, n)
			m, _ = m.Update(keyMsg("l"))
			for b.Loop() {
				_ = m.View()
			}
		})
	}
}

// BenchmarkKeyMoveFrame is key press → frame while moving a card on a
// 10,000-card board: Update (the optimistic move) plus View. The write
// itself runs in a Cmd off the UI goroutine; BenchmarkMoveCommit measures it.
// Presses alternate L and H so the card goes back and forth between two
// 2,000-card columns.
func BenchmarkKeyMoveFrame(b *testing.B) {
	m := benchModel(b, 10000)
	keys := []tea.KeyPressMsg{keyMsg("L"), keyMsg("H")}
	var lat []time.Duration
	i := 0
	for b.Loop() {
		start := time.Now()
		m, _ = m.Update(keys[i%2])
		_ = m.View()
		lat = append(lat, time.Since(start))
		// Stand in for the write finishing: drop the queued op.
		m.queue, m.inflight = nil, false
		i++
	}
	reportPercentiles(b, lat)
}

// BenchmarkMoveCommit is one card move committed to a real kanban.db with
// 10,000 cards, through the same Cmd the pane returns. Seeding takes a
// while, so it runs only with SPINDLE_BENCH_DB=1.
func BenchmarkMoveCommit(b *testing.B) {
	if os.Getenv("SPINDLE_BENCH_DB") == "" {
		b.Skip("set SPINDLE_BENCH_DB=1 to seed a 10,000-card kanban.db")
	}
	board, err := store.OpenBoard(filepath.Join(b.TempDir(), "kanban.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer board.Close()
	ctx := context.Background()
	for i := range 10000 {
		if _, err := board.Create(ctx, "bench", store.NewCard{Title: fmt.Sprintf("card %d", i), Status: store.Columns[i%5]}); err != nil {
			b.Fatal(err)
		}
	}
	m := newPane(board, nil)
	m.poll = 0
	m.SetSize(120, 40)
	m.Focus()
	m, _ = m.Update(m.loadCmd()())
	keys := []tea.KeyPressMsg{keyMsg("L"), keyMsg("H")}
	var lat []time.Duration
	i := 0
	for b.Loop() {
		var cmd tea.Cmd
		m, cmd = m.Update(keys[i%2])
		start := time.Now()
		msg := cmd()
		lat = append(lat, time.Since(start))
		if d, ok := msg.(writeDoneMsg); !ok || d.err != nil {
			b.Fatalf("write: %#v", msg)
		}
		m.queue, m.inflight = nil, false
		i++
	}
	reportPercentiles(b, lat)
}

func reportPercentiles(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[min(int(float64(len(lat))*p), len(lat)-1)].Microseconds())
	}
	b.ReportMetric(pct(0.50), "p50-µs")
	b.ReportMetric(pct(0.99), "p99-µs")
}

// BenchmarkViewEightRunning is the pane's frame while eight workers run:
// a real kanban.db with eight cards in Running (and a few others), loaded
// through the pane's own Cmd, and eight workers given with SetWorkers, each
// running card drawn with its spinner, time and latest output. Sizes: the
// board beside the chat in a 120×40 terminal (48×39) and the board alone
// (120×39).
//
//   - frame: View with nothing changed, as on every frame the root draws;
//   - refresh: SetWorkers with the next spinner frame, times and output
//     lines, then View, as the root does a few times a second.
func BenchmarkViewEightRunning(b *testing.B) {
	board, err := store.OpenBoard(filepath.Join(b.TempDir(), "kanban.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer board.Close()
	ctx := context.Background()
	var running []int64
	for i := range 20 {
		nc := store.NewCard{Title: fmt.Sprintf("Card number %d with a longish title", i), Priority: store.PriorityNormal}
		if i < 8 {
			nc.Status, nc.Assignee = store.Running, store.AgentAssignee
		} else {
			nc.Status = []store.Status{store.Todo, store.Blocked, store.Review, store.Done}[i%4]
		}
		c, err := board.Create(ctx, store.ActorMe, nc)
		if err != nil {
			b.Fatal(err)
		}
		if i < 8 {
			running = append(running, c.ID)
		}
	}
	spin := []string{"⣾", "⣽", "⣻", "⢿", "⡿", "⣟", "⣯", "⣷"}
	workers := func(frame int) []Worker {
		ws := make([]Worker, 0, len(running))
		for i, id := range running {
			ws = append(ws, Worker{CardID: id, Elapsed: time.Duration(frame+i) * 250 * time.Millisecond,
				LastLine: fmt.Sprintf("Reading the handler of step %d and writing the summary of what it found", frame+i)})
		}
		return ws
	}
	for _, size := range [][2]int{{48, 39}, {120, 39}} {
		m := newPane(board, nil)
		m.poll = 0
		m.SetSize(size[0], size[1])
		m.Focus()
		m, _ = m.Update(m.loadCmd()())
		m.SetWorkers(workers(0), spin[0])
		if v := m.View(); !strings.Contains(v, "⣾ 0s · Read") {
			b.Fatalf("no worker line in the pane:\n%s", v)
		}
		name := fmt.Sprintf("%dx%d", size[0], size[1])
		b.Run(name+"/frame", func(b *testing.B) {
			for b.Loop() {
				_ = m.View()
			}
		})
		b.Run(name+"/refresh", func(b *testing.B) {
			frame := 0
			for b.Loop() {
				frame++
				m.SetWorkers(workers(frame), spin[frame%len(spin)])
				_ = m.View()
			}
		})
	}
}
