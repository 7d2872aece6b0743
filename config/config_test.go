package config

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pelletier/go-toml/v2"
)

// writeConfig writes doc to config.toml in a new temporary directory.
func writeConfig(t *testing.T, doc string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// loadErr loads doc and returns the error's text, failing the test if
// there is none or if it is more than one line.
func loadErr(t *testing.T, doc string) (path, msg string) {
	t.Helper()
	path = writeConfig(t, doc)
	f, err := Load(path)
	if err == nil {
		t.Fatalf("Load(%q) = %+v, want an error", doc, f)
	}
	msg = err.Error()
	if strings.ContainsAny(msg, "\r\n") {
		t.Errorf("error is not one line:\n%s", msg)
	}
	if !strings.HasPrefix(msg, "config: ") {
		t.Errorf("error %q does not start with config:", msg)
	}
	return path, msg
}

// loadPromptly runs load in a goroutine. If it has not returned after five
// seconds it is hung on a FIFO: the test opens the FIFO's write end so that
// the goroutine can finish, and fails. The five seconds are a hang guard,
// not a timing assertion.
func loadPromptly(t *testing.T, path string, beforeOpen func()) (File, error) {
	t.Helper()
	type result struct {
		f   File
		err error
	}
	done := make(chan result, 1)
	go func() {
		f, err := load(path, beforeOpen)
		done <- result{f, err}
	}()
	select {
	case r := <-done:
		return r.f, r.err
	case <-time.After(5 * time.Second):
		if w, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			w.Close()
		}
		<-done
		t.Fatalf("Load(%s) hung", path)
		return File{}, nil
	}
}

const everyField = `base_url = "https://api.example/v1"
model = "m1"
api_key = "k"
stale_timeout = "45s"
max_workers = 4
approval_timeout = "90s"
allow = ["bash:go test *", "edit: docs/**"]
deny = ["bash:rm -rf *"]
yolo = true
theme = "light"
mouse = false
max_reply_bytes = 1000
max_event_bytes = 500
history = "summarise"

[keys]
"chat.send" = ["enter", "ctrl+s"]

[endpoints.local]
base_url = "http://localhost:11434/v1"
model = "qwen"

[endpoints.router]
base_url = "https://router.example/api/v1"
api_key_env = "ROUTER_API_KEY"

[models.m1]
context_window = 128000
input_price = 0.15
output_price = 0.6
`

func TestLoadMissingFileIsEmpty(t *testing.T) {
	dir := t.TempDir()
	for _, path := range []string{
		filepath.Join(dir, "config.toml"),
		filepath.Join(dir, "no", "such", "dir", "config.toml"),
	} {
		f, err := Load(path)
		if err != nil || !reflect.DeepEqual(f, File{}) {
			t.Errorf("Load(%s) = %+v, %v; want an empty File and no error", path, f, err)
		}
	}
}

func TestLoadEveryField(t *testing.T) {
	off := false
	want := File{
		BaseURL:         "https://api.example/v1",
		Model:           "m1",
		APIKey:          "k",
		StaleTimeout:    Duration{45 * time.Second},
		Keys:            map[string][]string{"chat.send": {"enter", "ctrl+s"}},
		MaxWorkers:      4,
		ApprovalTimeout: Duration{90 * time.Second},
		Allow:           []string{"bash:go test *", "edit: docs/**"},
		Deny:            []string{"bash:rm -rf *"},
		Yolo:            true,
		Theme:           "light",
		Mouse:           &off,
		MaxReplyBytes:   1000,
		MaxEventBytes:   500,
		History:         "summarise",
		Endpoints: map[string]Endpoint{
			"local":  {BaseURL: "http://localhost:11434/v1", Model: "qwen"},
			"router": {BaseURL: "https://router.example/api/v1", APIKeyEnv: "ROUTER_API_KEY"},
		},
		Models: map[string]Model{"m1": {ContextWindow: 128000, InputPrice: 0.15, OutputPrice: 0.6}},
	}
	f, err := Load(writeConfig(t, everyField))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(f, want) {
		t.Fatalf("got  %+v\nwant %+v", f, want)
	}
	// Every field of File is set above, so a field added without a test
	// shows up here.
	v := reflect.ValueOf(f)
	for i := range v.NumField() {
		if v.Field(i).IsZero() {
			t.Errorf("everyField does not set %s", v.Type().Field(i).Name)
		}
	}

	if got := f.MaxWorkersOrDefault(); got != 4 {
		t.Errorf("MaxWorkersOrDefault = %d", got)
	}
	if got := f.ApprovalTimeoutOrDefault(); got != 90*time.Second {
		t.Errorf("ApprovalTimeoutOrDefault = %s", got)
	}
	if got := f.ThemeOrDefault(); got != ThemeLight {
		t.Errorf("ThemeOrDefault = %q", got)
	}
	if f.MouseOrDefault() {
		t.Error("MouseOrDefault = true, want false")
	}
	if got := f.MaxReplyBytesOrDefault(); got != 1000 {
		t.Errorf("MaxReplyBytesOrDefault = %d", got)
	}
	if got := f.MaxEventBytesOrDefault(); got != 500 {
		t.Errorf("MaxEventBytesOrDefault = %d", got)
	}
	if got := f.HistoryOrDefault(); got != HistorySummarise {
		t.Errorf("HistoryOrDefault = %q", got)
	}
	wantAllow := []Rule{{"bash", "go test *"}, {"edit", "docs/**"}}
	if got := f.AllowRules(); !reflect.DeepEqual(got, wantAllow) {
		t.Errorf("AllowRules = %v, want %v", got, wantAllow)
	}
	if got := f.DenyRules(); !reflect.DeepEqual(got, []Rule{{"bash", "rm -rf *"}}) {
		t.Errorf("DenyRules = %v", got)
	}
}

func TestDefaults(t *testing.T) {
	var f File
	if got := f.MaxWorkersOrDefault(); got != 2 {
		t.Errorf("MaxWorkersOrDefault = %d, want 2", got)
	}
	if got := f.ApprovalTimeoutOrDefault(); got != 10*time.Minute {
		t.Errorf("ApprovalTimeoutOrDefault = %s, want 10m", got)
	}
	if got := f.ThemeOrDefault(); got != "auto" {
		t.Errorf("ThemeOrDefault = %q, want auto", got)
	}
	if !f.MouseOrDefault() {
		t.Error("MouseOrDefault = false, want true")
	}
	if got := f.MaxReplyBytesOrDefault(); got != 4<<20 {
		t.Errorf("MaxReplyBytesOrDefault = %d, want 4 MiB", got)
	}
	if got := f.MaxEventBytesOrDefault(); got != 1<<20 {
		t.Errorf("MaxEventBytesOrDefault = %d, want 1 MiB", got)
	}
	if got := f.HistoryOrDefault(); got != "drop" {
		t.Errorf("HistoryOrDefault = %q, want drop", got)
	}
	on := true
	f = File{MaxWorkers: 40, Mouse: &on}
	if got := f.MaxWorkersOrDefault(); got != 16 {
		t.Errorf("MaxWorkersOrDefault with 40 = %d, want the cap 16", got)
	}
	if !f.MouseOrDefault() {
		t.Error("mouse = true read as false")
	}
}

func TestLoadSyntaxError(t *testing.T) {
	path, msg := loadErr(t, "model = \"m\"\n\nbase_url = \"https://x\n")
	if !strings.HasPrefix(msg, "config: "+path+":3:22: ") {
		t.Errorf("error %q does not name %s:3:22", msg, path)
	}
	if !strings.Contains(msg, "basic strings cannot have new lines") {
		t.Errorf("error %q does not give the reason", msg)
	}
}

func TestLoadUnknownKeys(t *testing.T) {
	doc := "model = \"m\"\nbase_ur = \"x\"\n\n[endpoints.a]\nbase_url = \"http://h\"\nmodle = \"y\"\n"
	path, msg := loadErr(t, doc)
	want := "config: " + path + `:2: unknown key "base_ur"; ` + path + `:6: unknown key "endpoints.a.modle"`
	if msg != want {
		t.Errorf("got  %s\nwant %s", msg, want)
	}
	// Negative control: without strict decoding the same file loads.
	var f File
	if err := toml.Unmarshal([]byte(doc), &f); err != nil {
		t.Fatalf("the document is not valid TOML, so the test proves nothing: %v", err)
	}

	path, msg = loadErr(t, "endpoints = { x = { base_url = \"http://h\", foo = 1 } }\n")
	if want := "config: " + path + `:1: unknown key "endpoints.x.foo"`; msg != want {
		t.Errorf("got  %s\nwant %s", msg, want)
	}

	path, msg = loadErr(t, "base_ur = 1\n[keys]\n\"chat.send\" = [\"enter\"]\n")
	if want := "config: " + path + `:1: unknown key "base_ur"`; msg != want {
		t.Errorf("got  %s\nwant %s", msg, want)
	}
}

func TestLoadWrongTypes(t *testing.T) {
	cases := []struct{ doc, want string }{
		{"\nmax_workers = \"two\"", `:2:15: max_workers: want an integer, got a TOML string`},
		{"theme = 1", `:1:9: theme: want a string, got a TOML integer`},
		{"allow = [\"bash:x\", 2]", `:1:20: allow: want a string, got a TOML integer`},
		{"mouse = \"yes\"", `:1:9: mouse: want true or false, got a TOML string`},
		{"yolo = 1", `:1:8: yolo: want true or false, got a TOML integer`},
		{"max_reply_bytes = 1.5", `max_reply_bytes`},
		{"[models.m]\ninput_price = \"cheap\"", `:2:15: models.m.input_price: want a number, got a TOML string`},
		{"[endpoints]\nx = 1", `:2:5: endpoints.x: want a table, got a TOML integer`},
		{"keys = 1", `keys`},
		{"approval_timeout = \"soon\"", `:1:20: approval_timeout: "soon" is not a duration such as "30s" or "10m"`},
		// go-toml hands these to UnmarshalText without a position.
		{"model = \"m\"\nstale_timeout = 5", `:2: stale_timeout: "5" is not a duration such as "30s" or "10m"`},
		{"approval_timeout = true", `:1: approval_timeout: "true" is not a duration`},
		{"max_workers = 99999999999999999999", `:1:15: max_workers:`},
	}
	for _, tc := range cases {
		t.Run(tc.doc, func(t *testing.T) {
			path, msg := loadErr(t, tc.doc)
			if !strings.HasPrefix(msg, "config: "+path+":") || !strings.Contains(msg, tc.want) {
				t.Errorf("got  %s\nwant %s ...%s...", msg, path, tc.want)
			}
		})
	}
}

func TestLoadBadValues(t *testing.T) {
	cases := []struct{ doc, want string }{
		{"max_workers = -1", `:1: max_workers: -1: want 1 to 16`},
		{"model = \"m\"\nmax_workers = 99", `:2: max_workers: 99: want 1 to 16, or leave it out (or write 0) for the default 2`},
		{"max_workers = 17", `:1: max_workers: 17: want 1 to 16`},
		{"stale_timeout = \"-1s\"", `:1: stale_timeout: -1s is negative`},
		{"approval_timeout = \"-5m\"", `:1: approval_timeout: -5m0s is negative`},
		{"allow = [\n  \"bash:go test *\",\n  \"rm:x\",\n]", `:3: allow[1]: rule "rm:x": unknown tool "rm" (want one of view, ls, glob, grep, write, edit, bash)`},
		{"deny = [\"bash: \"]", `:1: deny[0]: rule "bash: " has no pattern`},
		{"deny = [\"bash\"]", `:1: deny[0]: rule "bash" is not tool:pattern`},
		{"theme = \"blue\"", `:1: theme: "blue" is not auto, dark or light`},
		{"history = \"keep\"", `:1: history: "keep" is not drop or summarise`},
		{"max_reply_bytes = -1", `:1: max_reply_bytes: -1 is negative`},
		{"max_event_bytes = -2", `:1: max_event_bytes: -2 is negative`},
		{"[endpoints.x]\nmodel = \"m\"", `:1: endpoints.x.base_url: base_url is missing`},
		{"endpoints = { x = { model = \"m\" } }", `:1: endpoints.x.base_url: base_url is missing`},
		{"[endpoints.\"\"]\nbase_url = \"http://h\"", `:1: endpoints."": an endpoint needs a name`},
		{"[endpoints.x]\nbase_url = \"http://h\"\napi_key_env = \"sk-proj-SECRET\"", `:3: endpoints.x.api_key_env: not the name of an environment variable`},
		{"[models.m]\ncontext_window = -1", `:2: models.m.context_window: -1 is negative`},
		{"[models.m]\ninput_price = nan", `:2: models.m.input_price: NaN is not a price`},
		{"[models.m]\noutput_price = -0.5", `:2: models.m.output_price: -0.5 is not a price`},
		{"[models.m]\noutput_price = inf", `:2: models.m.output_price: +Inf is not a price`},
	}
	for _, tc := range cases {
		t.Run(tc.doc, func(t *testing.T) {
			path, msg := loadErr(t, tc.doc)
			if !strings.HasPrefix(msg, "config: "+path+":") || !strings.Contains(msg, tc.want) {
				t.Errorf("got  %s\nwant %s ...%s...", msg, path, tc.want)
			}
			if strings.Contains(msg, "SECRET") {
				t.Errorf("error shows what may be a key: %s", msg)
			}
		})
	}

	// Every problem is listed, each with its line.
	path, msg := loadErr(t, "theme = \"blue\"\nmax_workers = -3\n")
	want := "config: " + path + `:1: theme: "blue" is not auto, dark or light; ` + path + ":2: max_workers: -3: want 1 to 16, or leave it out (or write 0) for the default 2"
	if msg != want {
		t.Errorf("got  %s\nwant %s", msg, want)
	}
}

func TestParseRule(t *testing.T) {
	good := map[string]Rule{
		"bash:go test *":       {"bash", "go test *"},
		" edit : docs/** ":     {"edit", "docs/**"},
		"view:**":              {"view", "**"},
		"grep:a:b":             {"grep", "a:b"},
		"ls:.":                 {"ls", "."},
		"glob:*.go":            {"glob", "*.go"},
		"write:notes/today.md": {"write", "notes/today.md"},
	}
	for s, want := range good {
		if got, err := ParseRule(s); err != nil || got != want {
			t.Errorf("ParseRule(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	for _, s := range []string{"", "bash", ":x", "bash:", "bash:  ", "Bash:x", "rm:-rf", "kanban_move:1"} {
		if r, err := ParseRule(s); err == nil {
			t.Errorf("ParseRule(%q) = %v, want an error", s, r)
		}
	}
}

// TestDurationKeys keeps durationKeys in step with File's Duration fields,
// whose errors decode places by that list.
func TestDurationKeys(t *testing.T) {
	var got []string
	ft := reflect.TypeFor[File]()
	for i := range ft.NumField() {
		if f := ft.Field(i); f.Type == reflect.TypeFor[Duration]() {
			got = append(got, f.Tag.Get("toml"))
		}
	}
	if !reflect.DeepEqual(got, durationKeys) {
		t.Errorf("File's Duration fields are %v, durationKeys is %v", got, durationKeys)
	}
}

func TestLoadFIFO(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.toml")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := loadPromptly(t, path, nil)
	if err == nil || err.Error() != "config: "+path+" is a named pipe, not a regular file" {
		t.Fatalf("got %v, want a named pipe refused", err)
	}

	// Negative control: a plain read of the same FIFO blocks. Opening its
	// write end without blocking succeeds only once a reader is waiting,
	// so this proves the reader was stuck, without measuring time.
	done := make(chan error, 1)
	go func() {
		_, err := os.ReadFile(path)
		done <- err
	}()
	var w *os.File
	deadline := time.Now().Add(5 * time.Second)
	for {
		w, err = os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0)
		if err == nil || !errors.Is(err, syscall.ENXIO) || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if err != nil {
		t.Fatalf("no reader ever waited on the FIFO: %v", err)
	}
	w.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestLoadFIFOSwappedIn replaces the checked regular file with a FIFO just
// before it is opened: the open must not block, and the descriptor's own
// check refuses it.
func TestLoadFIFOSwappedIn(t *testing.T) {
	path := writeConfig(t, "model = \"m\"\n")
	swap := func() {
		if err := os.Remove(path); err != nil {
			t.Error(err)
		}
		if err := syscall.Mkfifo(path, 0o600); err != nil {
			t.Error(err)
		}
	}
	_, err := loadPromptly(t, path, swap)
	if err == nil || !strings.Contains(err.Error(), path+" is a named pipe") {
		t.Fatalf("got %v, want a named pipe refused", err)
	}
}

func TestLoadNotARegularFile(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	zeroLink := filepath.Join(dir, "zero-link")
	if err := os.Symlink("/dev/zero", zeroLink); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ path, what string }{
		{"/dev/zero", "a device"},
		{zeroLink, "a symlink to /dev/zero, which is a device"},
		{"/dev/null", "a device"},
		{dir, "a directory"},
		{sock, "a socket"},
	}
	for _, tc := range cases {
		if _, err := os.Stat(tc.path); err != nil {
			t.Errorf("%s: %v", tc.path, err)
			continue
		}
		_, err := loadPromptly(t, tc.path, nil)
		want := "config: " + tc.path + " is " + tc.what + ", not a regular file"
		if err == nil || err.Error() != want {
			t.Errorf("Load(%s) = %v, want %s", tc.path, err, want)
		}
	}
}

func TestLoadSymlink(t *testing.T) {
	target := writeConfig(t, "model = \"linked\"\n")
	link := filepath.Join(t.TempDir(), "config.toml")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	f, err := Load(link)
	if err != nil || f.Model != "linked" {
		t.Errorf("Load(symlink) = %+v, %v", f, err)
	}

	dangling := filepath.Join(t.TempDir(), "config.toml")
	if err := os.Symlink(filepath.Join(t.TempDir(), "gone.toml"), dangling); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dangling); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("Load(dangling symlink) = %v, want an error", err)
	}
}

func TestLoadSizeLimit(t *testing.T) {
	// A comment line padded to the limit: valid TOML of exactly n bytes.
	doc := func(n int) string {
		return "model = \"m\"\n#" + strings.Repeat("x", n-len("model = \"m\"\n#")-1) + "\n"
	}
	f, err := Load(writeConfig(t, doc(MaxFileSize)))
	if err != nil || f.Model != "m" {
		t.Fatalf("a file of exactly %d bytes: %+v, %v", MaxFileSize, f, err)
	}
	path := writeConfig(t, doc(MaxFileSize+1))
	_, err = Load(path)
	want := "config: " + path + " is " + strconv.Itoa(MaxFileSize+1) + " bytes, more than the 65536 a configuration file may have"
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}

// FuzzDecode checks that no document makes decoding, validation or the
// key index panic, and that every error stays on one line.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{everyField, "allow = [\"rm:x\"]\n", "endpoints = { x = { foo = 1 } }\n", "stale_timeout = 5\n", "[a\n"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		var file File
		err := decode("c.toml", []byte(doc), &file)
		if err == nil {
			if ps := file.problems(); len(ps) > 0 {
				err = problemsError("c.toml", []byte(doc), ps)
			}
		}
		indexKeys([]byte(doc))
		if err != nil && strings.ContainsAny(err.Error(), "\r\n") {
			t.Errorf("error is not one line: %q", err)
		}
	})
}

// TestMaxWorkersPastTheLimitIsRefused: max_workers = 99 was quietly capped
// to 16 (the status bar said workers 0/16) while --max-workers 99 was
// refused; the file is refused the same way, naming the file and line. The
// controls: the limit itself and 0 (the default) load.
func TestMaxWorkersPastTheLimitIsRefused(t *testing.T) {
	path, msg := loadErr(t, "# workers\nmax_workers = 99\n")
	if want := "config: " + path + ":2: max_workers: 99: want 1 to 16"; !strings.HasPrefix(msg, want) {
		t.Errorf("got  %s\nwant %s…", msg, want)
	}
	for _, n := range []string{"16", "0", "1"} {
		f, err := Load(writeConfig(t, "max_workers = "+n+"\n"))
		if err != nil {
			t.Errorf("the control: max_workers = %s: %v", n, err)
			continue
		}
		if got := f.MaxWorkersOrDefault(); got < 1 || got > MaxWorkersLimit {
			t.Errorf("max_workers = %s gives %d workers", n, got)
		}
	}
}
