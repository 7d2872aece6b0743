package main

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/spindle-sh/spindle/agent/offline"
)

// serveDemoCmd runs the offline demo model on its own, so that other
// processes (spindle itself, curl, any OpenAI client) can use it over the
// network path.
func (a *app) serveDemoCmd() *cobra.Command {
	var (
		addr        string
		delay       time.Duration
		allowRemote bool
	)
	cmd := &cobra.Command{
		Use:   "serve-demo",
		Short: "Run the offline demo model as an OpenAI-compatible server on loopback TLS",
		Long: `serve-demo runs spindle's built-in demo model on its own: an OpenAI-compatible
chat-completions server (POST /v1/chat/completions, GET /v1/models) on HTTPS,
with a fresh self-signed certificate made for this run and valid for a day.
The certificate is written to demo-cert.pem in the data directory; point
SSL_CERT_FILE at it so that clients trust the server.

It listens on loopback only unless --allow-remote is given, and runs until
interrupted (Ctrl-C, SIGINT or SIGTERM).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.serveDemo(cmd, addr, delay, allowRemote)
		},
	}
	f := cmd.Flags()
	f.StringVar(&addr, "addr", "127.0.0.1:8090", "address to listen on (host:port; port 0 picks a free one)")
	f.DurationVar(&delay, "delay", 0, "pause between streamed chunks (0 = realistic, about 25ms; negative = none)")
	f.BoolVar(&allowRemote, "allow-remote", false, "allow listening on a non-loopback address")
	return cmd
}

func (a *app) serveDemo(cmd *cobra.Command, addr string, delay time.Duration, allowRemote bool) error {
	srv, err := offline.Start(offline.Options{Addr: addr, TokenDelay: delay, AllowRemote: allowRemote, Logger: a.logger})
	if errors.Is(err, offline.ErrNotLoopback) {
		return fmt.Errorf("serve-demo: %w (pass --allow-remote to allow it)", err)
	}
	if err != nil {
		return fmt.Errorf("serve-demo: %w", err)
	}
	defer srv.Close()

	certPath := filepath.Join(a.dataDir, "demo-cert.pem")
	if err := srv.WriteCertFile(certPath); err != nil {
		return fmt.Errorf("serve-demo: %w", err)
	}

	base := srv.BaseURL()
	out := cmd.OutOrStdout()
	fmt.Fprintf(out, "spindle demo model (offline) serving %s (model %q)\n", base, offline.ModelName)
	fmt.Fprintf(out, "certificate: %s (made for this run, valid for a day)\n\n", certPath)
	fmt.Fprintf(out, "Use it from another shell:\n")
	fmt.Fprintf(out, "  OPENAI_BASE_URL=%s OPENAI_API_KEY=demo SSL_CERT_FILE=%s spindle run \"hello\"\n",
		shellQuote(base), shellQuote(certPath))
	fmt.Fprintf(out, "  curl --cacert %s %s/models\n\n", shellQuote(certPath), shellQuote(base))
	fmt.Fprintf(out, "Press Ctrl-C to stop.\n")

	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	stop()
	if err := srv.Close(); err != nil {
		return fmt.Errorf("serve-demo: %w", err)
	}
	fmt.Fprintln(out, "stopped")
	return nil
}

// shellQuote quotes s for a POSIX shell when it holds anything but safe
// characters, so that the printed command can be pasted as is.
func shellQuote(s string) string {
	safe := s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=@%+,", r))
	}) < 0
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
