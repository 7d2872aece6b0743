package store

// The schemas, one migration per user_version step. Append only: a released
// migration is never edited, since files in the wild have already run it.

// boardMigrations build kanban.db. Times are Unix milliseconds. A card's
// place in its column is the order of (rank, id); rank is a sparse key, so
// that a move rewrites one row instead of shifting the rest of the column,
// and the dense position 0..n-1 that callers see is computed from it.
// card_events keeps
// its rows when a card is deleted (there is no foreign key) so that a delete
// can be undone and the history still read; before is the JSON image of the
// card row as it was before the change, which Undo restores exactly.
var boardMigrations = []string{
	`CREATE TABLE cards (
		id           INTEGER PRIMARY KEY AUTOINCREMENT,
		title        TEXT    NOT NULL CHECK (length(trim(title)) > 0),
		body         TEXT    NOT NULL DEFAULT '',
		status       TEXT    NOT NULL CHECK (status IN ('todo','running','blocked','review','done','archived')),
		rank         INTEGER NOT NULL,
		priority     INTEGER NOT NULL DEFAULT 1 CHECK (priority BETWEEN 0 AND 3),
		assignee     TEXT    NOT NULL DEFAULT 'me' CHECK (assignee IN ('me','agent')),
		created_at   INTEGER NOT NULL,
		updated_at   INTEGER NOT NULL,
		completed_at INTEGER
	);
	CREATE INDEX cards_by_column ON cards (status, rank);
	CREATE TABLE card_events (
		id        INTEGER PRIMARY KEY AUTOINCREMENT,
		card_id   INTEGER NOT NULL,
		kind      TEXT    NOT NULL CHECK (kind IN ('created','edited','moved','commented','deleted')),
		actor     TEXT    NOT NULL,
		text      TEXT    NOT NULL DEFAULT '',
		at        INTEGER NOT NULL,
		before    TEXT,
		undone_at INTEGER
	);
	CREATE INDEX card_events_by_card ON card_events (card_id, id);
	CREATE INDEX card_events_live ON card_events (id) WHERE undone_at IS NULL;`,
	// 2: undo is per actor; find an actor's latest live change without
	// walking everyone else's.
	`CREATE INDEX card_events_live_by_actor ON card_events (actor, id) WHERE undone_at IS NULL;`,
	// 3: cards run by dispatcher workers. A claim says which process runs
	// a card (one row per card, at most); its heartbeat keeps it, and a
	// dead process's or an expired claim is released by the next
	// dispatcher. runs keeps every run's outcome. A worker's new cards
	// name the card that made them.
	`ALTER TABLE cards ADD COLUMN parent_id INTEGER NOT NULL DEFAULT 0;
	CREATE TABLE runs (
		id          INTEGER PRIMARY KEY AUTOINCREMENT,
		card_id     INTEGER NOT NULL,
		session_id  INTEGER NOT NULL DEFAULT 0,
		host        TEXT    NOT NULL,
		pid         INTEGER NOT NULL,
		started_at  INTEGER NOT NULL,
		ended_at    INTEGER,
		outcome     TEXT    NOT NULL DEFAULT 'running' CHECK (outcome IN ('running','review','blocked','stopped','crashed','failed')),
		tokens      INTEGER NOT NULL DEFAULT 0,
		error       TEXT    NOT NULL DEFAULT ''
	);
	CREATE INDEX runs_by_card ON runs (card_id, id);
	CREATE TABLE claims (
		card_id      INTEGER PRIMARY KEY,
		run_id       INTEGER NOT NULL,
		host         TEXT    NOT NULL,
		pid          INTEGER NOT NULL,
		claimed_at   INTEGER NOT NULL,
		heartbeat_at INTEGER NOT NULL,
		expires_at   INTEGER NOT NULL,
		stop         INTEGER NOT NULL DEFAULT 0
	);`,
}

// stateMigrations build state.db.
var stateMigrations = []string{
	`CREATE TABLE sessions (
		id         INTEGER PRIMARY KEY AUTOINCREMENT,
		title      TEXT    NOT NULL DEFAULT '',
		created_at INTEGER NOT NULL,
		updated_at INTEGER NOT NULL
	);
	CREATE INDEX sessions_by_update ON sessions (updated_at, id);
	CREATE TABLE messages (
		id           INTEGER PRIMARY KEY AUTOINCREMENT,
		session_id   INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
		role         TEXT    NOT NULL CHECK (role IN ('system','user','assistant','tool')),
		content      TEXT    NOT NULL DEFAULT '',
		tool_calls   TEXT    NOT NULL DEFAULT '',
		tool_call_id TEXT    NOT NULL DEFAULT '',
		status       TEXT    NOT NULL DEFAULT 'complete' CHECK (status IN ('complete','interrupted','failed')),
		error        TEXT    NOT NULL DEFAULT '',
		created_at   INTEGER NOT NULL
	);
	CREATE INDEX messages_by_session ON messages (session_id, id);`,
	// 2: a tool result keeps the tool's name and what the screen shows
	// beside what the model was told (status failed marks an error
	// result); a reply keeps its token counts; a session says who made it
	// (the chat, spindle run, or a worker of a card) and the model it
	// last used.
	`ALTER TABLE messages ADD COLUMN tool_name TEXT NOT NULL DEFAULT '';
	ALTER TABLE messages ADD COLUMN screen TEXT NOT NULL DEFAULT '';
	ALTER TABLE messages ADD COLUMN prompt_tokens INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE messages ADD COLUMN completion_tokens INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE sessions ADD COLUMN kind TEXT NOT NULL DEFAULT 'chat' CHECK (kind IN ('chat','run','worker'));
	ALTER TABLE sessions ADD COLUMN card_id INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE sessions ADD COLUMN model TEXT NOT NULL DEFAULT '';
	CREATE INDEX sessions_by_kind ON sessions (kind, updated_at, id);`,
	// 3: a tool call that asked for approval keeps how it was decided
	// ("allowed once by you", "denied by deny rule bash:rm *").
	`ALTER TABLE messages ADD COLUMN approval TEXT NOT NULL DEFAULT '';`,
	// 4: a system message may be a summary standing for every earlier
	// message of its session up to summary_through (usage.go).
	`ALTER TABLE messages ADD COLUMN summary_through INTEGER NOT NULL DEFAULT 0;`,
	// 5: the session browser searches the person's and the model's
	// messages as they type, over thousands of sessions: a trigram index
	// finds any substring of three characters or more without reading the
	// messages. It is contentless (the text lives only in messages) and
	// keeps each message's session beside it, so that a search never
	// reads a message row; triggers keep it in step, cascaded deletes
	// included. Tool results are left out: they are files and command
	// output, not the conversation. A session also remembers the
	// endpoint its model belongs to.
	`ALTER TABLE sessions ADD COLUMN endpoint TEXT NOT NULL DEFAULT '';
	CREATE VIRTUAL TABLE messages_fts USING fts5(text, session_id UNINDEXED,
		content='', contentless_delete=1, contentless_unindexed=1, tokenize='trigram');
	INSERT INTO messages_fts (rowid, text, session_id)
		SELECT id, content, session_id FROM messages WHERE role IN ('user','assistant') AND content != '';
	CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages
		WHEN new.role IN ('user','assistant') AND new.content != '' BEGIN
		INSERT INTO messages_fts (rowid, text, session_id) VALUES (new.id, new.content, new.session_id);
	END;
	CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
		WHEN old.role IN ('user','assistant') AND old.content != '' BEGIN
		DELETE FROM messages_fts WHERE rowid = old.id;
	END;`,
}

var (
	boardKind = kind{name: "board (kanban.db)", appID: BoardAppID, migrations: boardMigrations, prepare: boardPrepared}
	stateKind = kind{name: "state database (state.db)", appID: StateAppID, migrations: stateMigrations}
)
