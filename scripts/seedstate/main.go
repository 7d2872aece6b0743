// Command seedstate writes a new state.db holding one session of N
// messages, for benchmarking `spindle --continue` on a long history:
//
//	go run ./scripts/seedstate -n 10000 /tmp/seed/state.db
//
// Messages alternate between a short question and a markdown answer with a
// list and a fenced Go block (what the chat pane renders with glamour and
// chroma). It goes through store.OpenState and AddMessage, so the file is
// exactly what spindle writes; it refuses to touch an existing file.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/spindle-sh/spindle/store"
)

func main() {
	n := flag.Int("n", 10000, "messages in the session")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: seedstate [-n messages] path/to/state.db")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 || *n < 0 {
		flag.Usage()
		os.Exit(2)
	}
	start := time.Now()
	if err := seed(context.Background(), flag.Arg(0), *n); err != nil {
		fmt.Fprintln(os.Stderr, "seedstate:", err)
		os.Exit(1)
	}
	fmt.Printf("seedstate: %d messages in %s (%.1fs)\n", *n, flag.Arg(0), time.Since(start).Seconds())
}

func seed(ctx context.Context, path string, n int) error {
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("%s exists; seedstate only writes a new file", path)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	st, err := store.OpenState(path)
	if err != nil {
		return err
	}
	s, err := st.CreateSession(ctx, fmt.Sprintf("seeded history of %d messages", n))
	if err != nil {
		st.Close()
		return err
	}
	for i := range n {
		m := store.Message{SessionID: s.ID, Role: store.RoleUser, Content: fmt.Sprintf("Question %d: how do **streams** end?", i)}
		if i%2 == 1 {
			m.Role = store.RoleAssistant
			m.Content = fmt.Sprintf("Answer %d.\n\n- the owner closes its sockets\n- the stranger only shuts them down\n\n```go\nx := %d\n```", i, i)
		}
		if _, err := st.AddMessage(ctx, m); err != nil {
			st.Close()
			return err
		}
	}
	return st.Close()
}
