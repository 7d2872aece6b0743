package main

import (
	"context"
	"errors"
)

// TODO(stub): replaced when tui lands.
func (a *app) runTUI(ctx context.Context) error {
	return errors.New("the full-screen UI is not implemented yet")
}
