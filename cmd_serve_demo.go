package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// TODO(stub): replaced by the package that implements it.
func (a *app) serveDemoCmd() *cobra.Command {
	return &cobra.Command{Use: "serve-demo", Hidden: true, RunE: func(*cobra.Command, []string) error {
		return errors.New("serve-demo: not implemented yet")
	}}
}
