// Package store is spindle's SQLite storage: kanban.db (the board) and
// state.db (sessions and messages).
package store

// TODO(stub)
type Board struct{}

// TODO(stub)
type State struct{}

// TODO(stub)
func OpenBoard(path string) (*Board, error) { return nil, nil }

// TODO(stub)
func OpenState(path string) (*State, error) { return nil, nil }
