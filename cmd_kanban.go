package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// TODO(stub): replaced by the package that implements it.
func (a *app) kanbanCmd() *cobra.Command {
	return &cobra.Command{Use: "kanban", Hidden: true, RunE: func(*cobra.Command, []string) error {
		return errors.New("kanban: not implemented yet")
	}}
}
