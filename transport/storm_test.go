package transport

import (
	"bytes"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

// lateRecord is the 24-byte TLS-record-shaped payload of the seed bug: a
// TLS 1.3 application-data header (17 03 03 00 13) and 19 bytes (here a
// recognisable marker, so that the harness can count foreign bytes).
var lateRecord = append([]byte{0x17, 0x03, 0x03, 0x00, 0x13}, []byte("spindle-late-flush!")...)

// stormSize is the number of interrupted streams per mode: SPINDLE_STORM_N,
// else 2,000, or fewer under -short and -race so that the default run stays
// quick.
func stormSize(t *testing.T) int {
	if s := os.Getenv("SPINDLE_STORM_N"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			t.Fatalf("SPINDLE_STORM_N=%q: want a positive integer", s)
		}
		return n
	}
	switch {
	case raceEnabled:
		return 150
	case testing.Short():
		return 300
	}
	return 2000
}

// stormReport is what one storm run saw.
type stormReport struct {
	streams      int   // interrupted streams run
	aborts       int64 // Abort calls that shut a socket down (N > 0)
	dbIterations int64 // open/write/check/close cycles of kanban.db
	corruptions  int64 // cycles that found the file damaged
	foreignBytes int64 // bytes of the late TLS record found in the file
	dbErrors     []string
	anomalies    []string // streams whose Abort shut nothing down, and why
	finalOK      bool     // header valid and integrity_check ok at the end
	unsafe       unsafeStats
}

func (r *stormReport) String() string {
	return fmt.Sprintf("streams=%d aborts=%d db_cycles=%d corruptions=%d foreign_bytes=%d final_ok=%v late_writes=%d late_writes_into_kanban_db=%d",
		r.streams, r.aborts, r.dbIterations, r.corruptions, r.foreignBytes, r.finalOK, r.unsafe.lateWrites.Load(), r.unsafe.intoDB.Load())
}

// runStorm runs n interrupted streams across many owners (each stream its
// own owner goroutine, several at once), aborted by a stranger after a
// random number of chunks, while another goroutine keeps opening, writing,
// checking and closing a real SQLite kanban.db. With unsafe set, each stream
// also runs the seed bug's code (storm_unsafe_test.go).
func runStorm(t *testing.T, n int, unsafe bool) *stormReport {
	t.Helper()
	rep := &stormReport{streams: n}
	s := newSSEServer(t, 200*time.Microsecond, 0, false)
	cfg := Config{BaseURL: s.baseURL(), Model: "test-model", Logger: discardLogger(), TLSConfig: s.tlsConfig()}
	st := startStranger()
	dbPath := filepath.Join(t.TempDir(), "kanban.db")

	stop := make(chan struct{})
	dbDone := make(chan struct{})
	go func() {
		defer close(dbDone)
		kanbanChurn(dbPath, stop, rep)
	}()

	const workers = 8
	var next atomic.Int64
	var wrong atomic.Int64
	var anomMu sync.Mutex
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(w)))
			for next.Add(1) <= int64(n) {
				plan := streamPlan{abortAfter: 1 + rng.IntN(4)}
				if unsafe {
					plan = unsafeStreamPlan(plan.abortAfter, rng, &rep.unsafe)
				}
				r := runStream(s, st, cfg, plan)
				if r.abortN > 0 {
					atomic.AddInt64(&rep.aborts, 1)
				} else {
					anomMu.Lock()
					if len(rep.anomalies) < 5 {
						rep.anomalies = append(rep.anomalies, fmt.Sprintf("chunks=%d/%d dialed=%d err=%v via_flag=%v", r.chunks, plan.abortAfter, r.dialed, r.err, r.viaFlag))
					}
					anomMu.Unlock()
				}
				for _, tid := range r.closeTIDs {
					if tid != r.ownerTID {
						wrong.Add(1)
					}
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	<-dbDone
	st.stop()
	s.srv.Close()
	if wrong.Load() != 0 {
		t.Errorf("%d real closes ran off their owner's thread", wrong.Load())
	}
	rep.finalOK = finalCheck(dbPath) == nil
	return rep
}

// kanbanChurn opens, writes, checks and closes kanban.db in a loop until
// stop is closed. Each cycle's fresh open() is what picks up a descriptor
// number that a stranger just freed. A damaged file is counted, then moved
// aside so that the next cycle starts a fresh database.
func kanbanChurn(path string, stop <-chan struct{}, rep *stormReport) {
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		default:
		}
		err := kanbanCycle(path, i)
		atomic.AddInt64(&rep.dbIterations, 1)
		foreign, hdrErr := inspectKanban(path)
		atomic.AddInt64(&rep.foreignBytes, int64(foreign))
		if err == nil && hdrErr != nil {
			err = fmt.Errorf("%w: %v", errCorrupt, hdrErr)
		}
		if err == nil {
			continue
		}
		if errors.Is(err, errCorrupt) || foreign > 0 {
			atomic.AddInt64(&rep.corruptions, 1)
			for _, suffix := range []string{"", "-journal"} {
				_ = os.Rename(path+suffix, fmt.Sprintf("%s.damaged.%d%s", path, i, suffix))
			}
			continue
		}
		if len(rep.dbErrors) < 10 {
			rep.dbErrors = append(rep.dbErrors, err.Error())
		}
	}
}

var errCorrupt = errors.New("kanban.db damaged")

// kanbanCycle is one open, write, read, integrity_check and close.
func kanbanCycle(path string, i int) (err error) {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(2000)&_pragma=synchronous(OFF)")
	if err != nil {
		return fmt.Errorf("open: %w", err)
	}
	db.SetMaxOpenConns(1)
	defer func() {
		if cerr := db.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close: %w", classify(cerr))
		}
	}()
	if _, err := db.Exec(`CREATE TABLE IF NOT EXISTS cards(id INTEGER PRIMARY KEY, title TEXT NOT NULL, status TEXT NOT NULL)`); err != nil {
		return fmt.Errorf("create: %w", classify(err))
	}
	if _, err := db.Exec(`INSERT INTO cards(title, status) VALUES (?, 'todo')`, "card "+strconv.Itoa(i)); err != nil {
		return fmt.Errorf("insert: %w", classify(err))
	}
	// Hold the file open for a few read-only statements: a late write that
	// lands now is not papered over by SQLite rewriting page 1.
	for range 3 {
		var count int
		if err := db.QueryRow(`SELECT count(*) FROM cards WHERE status = 'todo'`).Scan(&count); err != nil {
			return fmt.Errorf("count: %w", classify(err))
		}
	}
	var ic string
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&ic); err != nil {
		return fmt.Errorf("integrity_check: %w", classify(err))
	}
	if ic != "ok" {
		return fmt.Errorf("integrity_check: %s: %w", ic, errCorrupt)
	}
	return nil
}

// classify marks SQLite's corruption errors with errCorrupt.
func classify(err error) error {
	msg := strings.ToLower(err.Error())
	for _, w := range []string{"not a database", "malformed", "corrupt"} {
		if strings.Contains(msg, w) {
			return fmt.Errorf("%w: %v", errCorrupt, err)
		}
	}
	return err
}

// inspectKanban reads the file from outside SQLite: it counts bytes of the
// late TLS record found anywhere in it and checks the fixed header fields.
func inspectKanban(path string) (foreign int, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return 0, nil
		}
		return 0, err
	}
	foreign = bytes.Count(data, lateRecord) * len(lateRecord)
	if len(data) == 0 {
		return foreign, nil
	}
	if len(data) < 100 {
		return foreign, fmt.Errorf("short file (%d bytes)", len(data))
	}
	if !bytes.Equal(data[:16], []byte("SQLite format 3\x00")) {
		return foreign, fmt.Errorf("bad magic % x", data[:32])
	}
	if data[21] != 64 || data[22] != 32 || data[23] != 32 {
		return foreign, fmt.Errorf("bad payload fractions % x", data[21:24])
	}
	return foreign, nil
}

// finalCheck opens the database once more and runs integrity_check.
func finalCheck(path string) error {
	if _, err := inspectKanban(path); err != nil {
		return err
	}
	return kanbanCycle(path, -1)
}

// TestInterruptStorm: safe mode must leave kanban.db untouched; the same
// harness in unsafe mode (the seed bug's raw-descriptor code) must detect
// the damage, proving the harness can see the bug.
func TestInterruptStorm(t *testing.T) {
	n := stormSize(t)

	safe := runStorm(t, n, false)
	t.Logf("safe mode:   %s", safe)
	if safe.corruptions != 0 || safe.foreignBytes != 0 || !safe.finalOK {
		t.Errorf("safe mode damaged kanban.db: %s", safe)
	}
	if len(safe.dbErrors) != 0 {
		t.Errorf("safe mode SQLite errors: %v", safe.dbErrors)
	}
	if safe.dbIterations < 10 {
		t.Errorf("the SQLite churn ran only %d cycles: the harness did not exercise descriptor reuse", safe.dbIterations)
	}
	if safe.aborts != int64(n) {
		t.Errorf("%d of %d aborts shut a socket down; %v", safe.aborts, n, safe.anomalies)
	}

	// The unsafe mode's damage is probabilistic (the freed number must be
	// the lowest free one when the churn's next open() runs, and the late
	// write must land while the file is open), so it runs further batches
	// of n streams, at most four more, until the harness has seen damage.
	var detected bool
	for round := 1; round <= 5 && !detected; round++ {
		bad := runStorm(t, n, true)
		t.Logf("unsafe mode (batch %d): %s", round, bad)
		detected = bad.corruptions > 0 || bad.foreignBytes > 0
	}
	if !detected {
		t.Errorf("negative control failed: the seed bug's code ran in up to %d streams and the harness saw no damage", 5*n)
	}
}
