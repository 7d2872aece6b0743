package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// TODO(stub): replaced by the package that implements it.
func (a *app) doctorCmd() *cobra.Command {
	return &cobra.Command{Use: "doctor", Hidden: true, RunE: func(*cobra.Command, []string) error {
		return errors.New("doctor: not implemented yet")
	}}
}
