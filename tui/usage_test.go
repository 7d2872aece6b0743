package tui

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/spindle-sh/spindle/agent"
	"github.com/spindle-sh/spindle/config"
	"github.com/spindle-sh/spindle/keymap"
	"github.com/spindle-sh/spindle/store"
	"github.com/spindle-sh/spindle/tui/chat"
	"github.com/spindle-sh/spindle/tui/internal/tuitest"
	"github.com/spindle-sh/spindle/tui/theme"
)

// TestLongConversationOnScreen runs the real agent against a loopback
// server that refuses a request larger than its 4,096-token window, on a
// stored conversation four times that long. The turn succeeds, the
// transcript says before the reply that the oldest messages were left out,
// and the status bar's figures are the server's usage chunk (3,012 in, 57
// out) added to the session's stored ones (40 replies of 100 in, 10 out),
// with the window's share and the cost at the configured prices. Without a
// usage chunk the same figures are marked as estimates, the negative
// control that shows they came from the chunk.
func TestLongConversationOnScreen(t *testing.T) {
	for _, withUsage := range []bool{true, false} {
		t.Run(fmt.Sprintf("usage=%v", withUsage), func(t *testing.T) {
			const window = 4096
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				if len(body)/4 > window {
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(400)
					fmt.Fprintf(w, `{"error":{"message":"maximum context length is %d tokens","type":"invalid_request_error","code":"context_length_exceeded"}}`, window)
					return
				}
				w.Header().Set("Content-Type", "text/event-stream")
				chunk := func(s string) { fmt.Fprintf(w, "data: %s\n\n", s) }
				chunk(`{"id":"c","object":"chat.completion.chunk","created":1,"model":"small-model","choices":[{"index":0,"delta":{"role":"assistant","content":"fine, "},"finish_reason":null}]}`)
				chunk(`{"id":"c","object":"chat.completion.chunk","created":1,"model":"small-model","choices":[{"index":0,"delta":{"content":"thanks"},"finish_reason":"stop"}]}`)
				if withUsage {
					chunk(`{"id":"c","object":"chat.completion.chunk","created":1,"model":"small-model","choices":[],"usage":{"prompt_tokens":3012,"completion_tokens":57,"total_tokens":3069}}`)
				}
				chunk("[DONE]")
			}))
			defer srv.Close()

			dir := t.TempDir()
			state, err := store.OpenState(filepath.Join(dir, "state.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer state.Close()
			board, err := store.OpenBoard(filepath.Join(dir, "kanban.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer board.Close()
			ctx := context.Background()
			sess, err := state.CreateSession(ctx, "long")
			if err != nil {
				t.Fatal(err)
			}
			filler := strings.Repeat("lorem ipsum ", 32)
			for i := range 40 {
				for _, m := range []store.Message{
					{Role: store.RoleUser, Content: fmt.Sprintf("question %d: %s", i, filler)},
					{Role: store.RoleAssistant, Content: fmt.Sprintf("answer %d: %s", i, filler), PromptTokens: 100, CompletionTokens: 10},
				} {
					m.SessionID = sess.ID
					if _, err := state.AddMessage(ctx, m); err != nil {
						t.Fatal(err)
					}
				}
			}
			ag, err := agent.New(agent.Config{
				BaseURL: srv.URL + "/v1", APIKey: "k", Model: "small-model", State: state, Board: board,
				Context: agent.ContextOptions{Models: map[string]config.Model{"small-model": {ContextWindow: window, InputPrice: 2.5, OutputPrice: 10}}},
			})
			if err != nil {
				t.Fatal(err)
			}
			defer ag.Close()

			h := &harness{t: t, state: state, board: board, pump: tuitest.NewPump(t)}
			h.m = New(Options{Agent: ag, Sessions: state, Board: board, Keys: keymap.Default(), Palette: theme.Default(), Continue: true})
			h.send(tea.WindowSizeMsg{Width: 120, Height: 40})
			h.pump.Run(h.m.Init())
			h.until(func(msg tea.Msg) bool { return typeName(msg) == "chat.sessionLoadedMsg" })
			if bar := h.statusBar(); !strings.Contains(bar, "↑4k ↓400") || !strings.Contains(bar, "$0.01") {
				t.Errorf("the stored session's figures: %q", bar)
			}
			h.typeText("and now?")
			h.key(enter)
			deadline := time.Now().Add(20 * time.Second)
			for {
				h.untilChat()
				if h.m.chat.Running() == 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("the turn did not end")
				}
			}
			screen, bar := h.screen(), h.statusBar()
			note := strings.Index(screen, "context window (4096")
			if !regexp.MustCompile(`the oldest \d+ messages were left out of this request`).MatchString(strings.Join(strings.Fields(screen), " ")) {
				note = -1
			}
			reply := strings.Index(screen, "fine, thanks")
			if note < 0 || reply < 0 || note > reply {
				t.Fatalf("the transcript does not say what was left out before the reply (note at %d, reply at %d):\n%s", note, reply, screen)
			}
			if withUsage {
				// In 4,000 + 3,012; out 400 + 57; context 3,012 + 57 of
				// 4,096 = 74 %; cost (7,012 × 2.5 + 457 × 10) / 1e6.
				for _, want := range []string{" 3.1k/4.1k 74% ", " ↑7k ↓457 ", " $0.02 "} {
					if !strings.Contains(bar, want) {
						t.Errorf("status bar %q lacks %q", bar, want)
					}
				}
				if strings.Contains(bar, "~") {
					t.Errorf("reported figures are marked as estimates: %q", bar)
				}
				msgs, _ := state.Messages(ctx, sess.ID)
				if last := msgs[len(msgs)-1]; last.PromptTokens != 3012 || last.CompletionTokens != 57 {
					t.Errorf("saved usage = %d/%d", last.PromptTokens, last.CompletionTokens)
				}
			} else if !strings.Contains(bar, "~") {
				t.Errorf("negative control: without a usage chunk the figures are not marked as estimates: %q", bar)
			}
		})
	}
}

// The token figures give way from the right when the bar is narrow: the
// cost first, then the tokens sent and received; the context share last.
func TestUsageLabelDropsFromTheRight(t *testing.T) {
	h := newHarness(t, 120, 40)
	u := chat.Usage{Tally: agent.Tally{In: 23_130, Out: 272, Context: 12_340}, Window: 128_000, Cost: 0.06, Priced: true}
	for _, tc := range []struct {
		room int
		want string
	}{
		{100, " 12.3k/128k 9%  ↑23.1k ↓272  $0.06 "},
		{34, " 12.3k/128k 9%  ↑23.1k ↓272 "},
		{20, " 12.3k/128k 9% "},
		{10, ""},
	} {
		if got := stripANSI(h.m.usageLabel(u, tc.room)); got != tc.want {
			t.Errorf("room %d: %q, want %q", tc.room, got, tc.want)
		}
	}
	if got := stripANSI(h.m.usageLabel(chat.Usage{}, 100)); got != "" {
		t.Errorf("a new session shows %q", got)
	}
	est := u
	est.Estimated, est.Window, est.Priced = true, 0, false
	if got := stripANSI(h.m.usageLabel(est, 100)); got != " ~12.3k in context  ~↑23.1k ↓272 " {
		t.Errorf("estimated, window unknown: %q", got)
	}
}

func TestCompactCount(t *testing.T) {
	for n, want := range map[int64]string{
		0: "0", 999: "999", 1000: "1k", 8192: "8.2k", 12_345: "12.3k", 99_949: "99.9k", 99_950: "100k",
		128_000: "128k", 999_499: "999k", 999_500: "1M", 1_047_576: "1M", 2_500_000: "2.5M",
	} {
		if got := compactCount(n); got != want {
			t.Errorf("compactCount(%d) = %q, want %q", n, got, want)
		}
	}
	for c, want := range map[float64]string{0: "$0.00", 0.004: "<$0.01", 0.0221: "$0.02", 12.5: "$12.50"} {
		if got := dollars(c); got != want {
			t.Errorf("dollars(%v) = %q, want %q", c, got, want)
		}
	}
}

func stripANSI(s string) string { return sgrSeq.ReplaceAllString(s, "") }
