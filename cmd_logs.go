package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// TODO(stub): replaced by the package that implements it.
func (a *app) logsCmd() *cobra.Command {
	return &cobra.Command{Use: "logs", Hidden: true, RunE: func(*cobra.Command, []string) error {
		return errors.New("logs: not implemented yet")
	}}
}
