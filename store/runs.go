package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Errors the dispatcher branches on.
var (
	// ErrNotRunnable: the card is not in To do and assigned to the agent.
	ErrNotRunnable = errors.New("not runnable")
	// ErrClaimed: another worker (in this process or another) holds it.
	ErrClaimed = errors.New("already claimed")
	// ErrNotRunning: the card has no running worker (a stop, a heartbeat
	// of a claim that was released).
	ErrNotRunning = errors.New("not running")
)

// RunOutcome is how a worker's run of a card ended.
type RunOutcome string

// The outcomes.
const (
	RunRunning RunOutcome = "running" // not ended yet
	RunReview  RunOutcome = "review"  // the worker finished; the card waits for the person
	RunBlocked RunOutcome = "blocked" // the worker could not go on, and said why
	RunStopped RunOutcome = "stopped" // the person (or quitting) stopped it
	RunCrashed RunOutcome = "crashed" // its process died, or its heartbeat expired
	RunFailed  RunOutcome = "failed"  // the model's requests failed after the retries
)

func (o RunOutcome) valid() bool {
	switch o {
	case RunRunning, RunReview, RunBlocked, RunStopped, RunCrashed, RunFailed:
		return true
	}
	return false
}

// Run is one worker's run of a card.
type Run struct {
	ID        int64      `json:"id"`
	CardID    int64      `json:"card_id"`
	SessionID int64      `json:"session_id"` // the worker's session in state.db; 0 until it has one
	Host      string     `json:"host"`
	PID       int        `json:"pid"`
	StartedAt time.Time  `json:"started_at"`
	EndedAt   time.Time  `json:"ended_at,omitzero"`
	Outcome   RunOutcome `json:"outcome"`
	Tokens    int64      `json:"tokens"`
	Error     string     `json:"error,omitempty"`
}

// Claim is a running worker's hold on a card.
type Claim struct {
	CardID    int64
	RunID     int64
	Host      string
	PID       int
	ClaimedAt time.Time
	Heartbeat time.Time
	Expires   time.Time
	// Stop is set by RequestStop (spindle kanban stop, from any process);
	// the owning dispatcher sees it on its next heartbeat.
	Stop bool
}

const runColumns = `id, card_id, session_id, host, pid, started_at, ended_at, outcome, tokens, error`

func scanRun(s scanner) (Run, error) {
	var r Run
	var started int64
	var ended sql.NullInt64
	err := s.Scan(&r.ID, &r.CardID, &r.SessionID, &r.Host, &r.PID, &started, &ended, &r.Outcome, &r.Tokens, &r.Error)
	r.StartedAt = fromMilli(started)
	if ended.Valid {
		r.EndedAt = fromMilli(ended.Int64)
	}
	return r, err
}

// Runnable returns up to limit cards a worker may take: assigned to the
// agent, not claimed, and in To do or in Running; highest priority first,
// then oldest. A card in Running with no claim has no worker: it was put
// there by hand (spindle kanban add --status running, or undoing a
// worker's move out of Running), and the agent is meant to be working it,
// so the next free worker does.
func (b *Board) Runnable(ctx context.Context, limit int) ([]Card, error) {
	var out []Card
	err := b.db.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+cardColumns+` FROM cards
			WHERE status IN ('todo', 'running') AND assignee = 'agent' AND id NOT IN (SELECT card_id FROM claims)
			ORDER BY priority DESC, created_at, id LIMIT ?`, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			r, err := scanRow(rows)
			if err != nil {
				return err
			}
			out = append(out, r.card())
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: runnable cards: %w", err)
	}
	return out, nil
}

// Claim takes card id for a worker of this process, in one immediate
// transaction that checks the card is still runnable and unclaimed (two
// dispatchers on one board never both get it), records the run, writes
// the claim (host, pid, an expiry ttl away) and moves the card to Running
// as the worker's actor (a card already there, with no worker, stays where
// it is). It fails with ErrNotRunnable or ErrClaimed.
func (b *Board) Claim(ctx context.Context, id int64, host string, pid int, ttl time.Duration) (Run, error) {
	var run Run
	err := b.db.write(ctx, func(tx *wtx) error {
		card, err := getRow(ctx, tx, id)
		if err != nil {
			return err
		}
		if (card.Status != string(Todo) && card.Status != string(Running)) || card.Assignee != string(AgentAssignee) {
			return ErrNotRunnable
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM claims WHERE card_id = ?`, id).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return ErrClaimed
		}
		now := nowMilli()
		res, err := tx.ExecContext(ctx, `INSERT INTO runs (card_id, host, pid, started_at) VALUES (?, ?, ?, ?)`, id, host, pid, now)
		if err != nil {
			return err
		}
		if run.ID, err = res.LastInsertId(); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO claims (card_id, run_id, host, pid, claimed_at, heartbeat_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, id, run.ID, host, pid, now, now, now+ttl.Milliseconds()); err != nil {
			return err
		}
		run = Run{ID: run.ID, CardID: id, Host: host, PID: pid, StartedAt: fromMilli(now), Outcome: RunRunning}
		return moveTo(ctx, tx, card, Running, WorkerActor(id), now)
	})
	if err != nil {
		return Run{}, fmt.Errorf("store: claim card %d: %w", id, err)
	}
	return run, nil
}

// moveTo moves a card (as read in this transaction) to the end of column
// to, recording the event; a card already there stays.
func moveTo(ctx context.Context, tx *wtx, card row, to Status, actor string, now int64) error {
	from := Status(card.Status)
	if from == to {
		return nil
	}
	n, err := columnLen(ctx, tx, to)
	if err != nil {
		return err
	}
	after := card
	after.Status, after.Updated = string(to), now
	if after.Rank, err = rankFor(ctx, tx, to, card.ID, n); err != nil {
		return err
	}
	switch {
	case to == Done:
		after.Completed = &now
	default:
		after.Completed = nil
	}
	if _, err := tx.ExecContext(ctx, qMoveCard, after.Status, after.Rank, after.Updated, after.Completed, card.ID); err != nil {
		return err
	}
	return addEvent(ctx, tx, card.ID, EventMoved, actor, string(from)+" → "+string(to), now, &card)
}

// SetRunSession records the worker's session on its run.
func (b *Board) SetRunSession(ctx context.Context, runID, sessionID int64) error {
	err := b.db.write(ctx, func(tx *wtx) error {
		_, err := tx.ExecContext(ctx, `UPDATE runs SET session_id = ? WHERE id = ?`, sessionID, runID)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: run %d: set session: %w", runID, err)
	}
	return nil
}

// StopCause says why a running worker must stop, as its heartbeat finds
// it: someone asked (RequestStop), or its card is no longer the agent's to
// work. StopNone means go on.
type StopCause string

// The causes, in the order Heartbeat checks them.
const (
	StopNone      StopCause = ""
	StopDeleted   StopCause = "deleted"    // the card was deleted
	StopArchived  StopCause = "archived"   // the card was archived
	StopMoved     StopCause = "moved"      // the card was moved out of Running
	StopGivenBack StopCause = "given back" // the card was assigned to the person
	StopRequested StopCause = "requested"  // RequestStop: x on the board, spindle kanban stop
)

// Heartbeat keeps run's claim for another ttl and says whether its worker
// must stop, and why: a stop was requested (RequestStop), or the card was
// deleted, archived, moved out of Running or given back to the person since
// it was claimed (by anyone, from any process). ErrNotRunning means the
// claim is gone: another dispatcher released it as crashed, and this worker
// must stop.
func (b *Board) Heartbeat(ctx context.Context, runID int64, ttl time.Duration) (StopCause, error) {
	var cause StopCause
	err := b.db.write(ctx, func(tx *wtx) error {
		now := nowMilli()
		if err := tx.execOne(ctx, ErrNotRunning, `UPDATE claims SET heartbeat_at = ?, expires_at = ? WHERE run_id = ?`, now, now+ttl.Milliseconds(), runID); err != nil {
			return err
		}
		var stop int
		var status, assignee sql.NullString
		if err := tx.QueryRowContext(ctx, `SELECT cl.stop, c.status, c.assignee
			FROM claims cl LEFT JOIN cards c ON c.id = cl.card_id WHERE cl.run_id = ?`, runID).Scan(&stop, &status, &assignee); err != nil {
			return err
		}
		cause = stopCause(stop != 0, status, assignee)
		return nil
	})
	if err != nil {
		return StopNone, fmt.Errorf("store: heartbeat of run %d: %w", runID, err)
	}
	return cause, nil
}

// stopCause is why a claimed card's worker must stop: the card's state
// (NULL when it was deleted) comes before a stop request, since it says
// more about what happened.
func stopCause(requested bool, status, assignee sql.NullString) StopCause {
	switch {
	case !status.Valid:
		return StopDeleted
	case status.String == string(Archived):
		return StopArchived
	case status.String != string(Running):
		return StopMoved
	case assignee.String != string(AgentAssignee):
		return StopGivenBack
	case requested:
		return StopRequested
	}
	return StopNone
}

// RequestStop asks the worker running card id to stop, from any process:
// the dispatcher that owns it sees the request on its next heartbeat.
func (b *Board) RequestStop(ctx context.Context, id int64) (Claim, error) {
	var c Claim
	err := b.db.write(ctx, func(tx *wtx) error {
		if err := tx.execOne(ctx, ErrNotRunning, `UPDATE claims SET stop = 1 WHERE card_id = ?`, id); err != nil {
			return err
		}
		var err error
		c, err = scanClaim(tx.QueryRowContext(ctx, `SELECT `+claimColumns+` FROM claims WHERE card_id = ?`, id))
		return err
	})
	if err != nil {
		return Claim{}, fmt.Errorf("store: stop card %d: %w", id, err)
	}
	return c, nil
}

// RunEnd is how a run ended and what happens to its card.
type RunEnd struct {
	Outcome RunOutcome
	// To is the card's column now: Review, Blocked, or To do (a run
	// stopped by quitting, or crashed, goes back to be run again).
	To Status
	// Comment is added to the card as the worker: its summary, the reason
	// it is blocked, the error.
	Comment string
	Tokens  int64
	Error   string
}

// FinishRun ends run in one transaction: the run row gets its outcome, the
// claim is released, and the card (if it still exists, is still in Running
// and is still assigned to the agent) moves to e.To; e.Comment is added to
// it as the worker's actor. A card given back to the person while its
// worker ran stays where the person left it. A run that already ended is
// ErrNotRunning.
func (b *Board) FinishRun(ctx context.Context, runID int64, e RunEnd) (Run, error) {
	if !e.Outcome.valid() || e.Outcome == RunRunning {
		return Run{}, fmt.Errorf("store: finish run %d: bad outcome %q", runID, e.Outcome)
	}
	var run Run
	err := b.db.write(ctx, func(tx *wtx) error {
		var err error
		run, err = finishRun(ctx, tx, runID, e, nowMilli())
		return err
	})
	if err != nil {
		return Run{}, fmt.Errorf("store: finish run %d: %w", runID, err)
	}
	return run, nil
}

func finishRun(ctx context.Context, tx *wtx, runID int64, e RunEnd, now int64) (Run, error) {
	run, err := scanRun(tx.QueryRowContext(ctx, `SELECT `+runColumns+` FROM runs WHERE id = ?`, runID))
	if errors.Is(err, sql.ErrNoRows) {
		return Run{}, ErrNotFound
	}
	if err != nil {
		return Run{}, err
	}
	if run.Outcome != RunRunning {
		return Run{}, ErrNotRunning
	}
	if _, err := tx.ExecContext(ctx, `UPDATE runs SET ended_at = ?, outcome = ?, tokens = ?, error = ? WHERE id = ?`,
		now, string(e.Outcome), e.Tokens, e.Error, runID); err != nil {
		return Run{}, err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM claims WHERE run_id = ?`, runID); err != nil {
		return Run{}, err
	}
	run.EndedAt, run.Outcome, run.Tokens, run.Error = fromMilli(now), e.Outcome, e.Tokens, e.Error
	card, err := getRow(ctx, tx, run.CardID)
	if errors.Is(err, ErrNotFound) {
		return run, nil // deleted while it ran: the run is still recorded
	}
	if err != nil {
		return Run{}, err
	}
	actor := WorkerActor(run.CardID)
	if card.Status == string(Running) && card.Assignee == string(AgentAssignee) && e.To != "" {
		if err := moveTo(ctx, tx, card, e.To, actor, now); err != nil {
			return Run{}, err
		}
	}
	if c := strings.TrimSpace(e.Comment); c != "" {
		if err := addEvent(ctx, tx, run.CardID, EventCommented, actor, c, now, nil); err != nil {
			return Run{}, err
		}
	}
	return run, nil
}

// Recover releases the claims whose worker is gone: on this host with a
// pid that alive says is dead, or anywhere past their expiry. Each run is
// recorded crashed and its card goes back to To do, to be run again (a
// card given back to the person, or moved out of Running, stays where it
// is). It returns the runs it ended.
func (b *Board) Recover(ctx context.Context, host string, alive func(pid int) bool) ([]Run, error) {
	// Most ticks find nothing to release: look first, in a read, so that an
	// idle dispatcher does not write (or wake the other processes' pollers)
	// every second.
	claims, err := b.Claims(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: recover claims: %w", err)
	}
	now := nowMilli()
	stale := false
	for _, c := range claims {
		if (c.Host == host && !alive(c.PID)) || c.Expires.UnixMilli() < now {
			stale = true
			break
		}
	}
	if !stale {
		return nil, nil
	}
	var out []Run
	err = b.db.write(ctx, func(tx *wtx) error {
		now := nowMilli()
		rows, err := tx.QueryContext(ctx, `SELECT `+claimColumns+` FROM claims`)
		if err != nil {
			return err
		}
		var dead []Claim
		for rows.Next() {
			c, err := scanClaim(rows)
			if err != nil {
				rows.Close()
				return err
			}
			if (c.Host == host && !alive(c.PID)) || c.Expires.UnixMilli() < now {
				dead = append(dead, c)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, c := range dead {
			why := fmt.Sprintf("crashed: process %d on %s is gone", c.PID, c.Host)
			if c.Host != host || alive(c.PID) {
				why = fmt.Sprintf("crashed: no heartbeat from process %d on %s since %s", c.PID, c.Host, c.Heartbeat.Format(time.RFC3339))
			}
			run, err := finishRun(ctx, tx, c.RunID, RunEnd{Outcome: RunCrashed, To: Todo, Comment: why, Error: why}, now)
			if errors.Is(err, ErrNotRunning) || errors.Is(err, ErrNotFound) {
				// A claim without a live run: just release it.
				_, err = tx.ExecContext(ctx, `DELETE FROM claims WHERE card_id = ?`, c.CardID)
				continue
			}
			if err != nil {
				return err
			}
			out = append(out, run)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: recover claims: %w", err)
	}
	return out, nil
}

const claimColumns = `card_id, run_id, host, pid, claimed_at, heartbeat_at, expires_at, stop`

func scanClaim(s scanner) (Claim, error) {
	var c Claim
	var claimed, beat, exp int64
	var stop int
	err := s.Scan(&c.CardID, &c.RunID, &c.Host, &c.PID, &claimed, &beat, &exp, &stop)
	c.ClaimedAt, c.Heartbeat, c.Expires, c.Stop = fromMilli(claimed), fromMilli(beat), fromMilli(exp), stop != 0
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotRunning
	}
	return c, err
}

// Claims returns every claim on the board.
func (b *Board) Claims(ctx context.Context) ([]Claim, error) {
	var out []Claim
	err := b.db.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+claimColumns+` FROM claims ORDER BY card_id`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			c, err := scanClaim(rows)
			if err != nil {
				return err
			}
			out = append(out, c)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: claims: %w", err)
	}
	return out, nil
}

// Runs returns a card's runs, oldest first.
func (b *Board) Runs(ctx context.Context, cardID int64) ([]Run, error) {
	var out []Run
	err := b.db.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+runColumns+` FROM runs WHERE card_id = ? ORDER BY id`, cardID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			r, err := scanRun(rows)
			if err != nil {
				return err
			}
			out = append(out, r)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: runs of card %d: %w", cardID, err)
	}
	return out, nil
}
