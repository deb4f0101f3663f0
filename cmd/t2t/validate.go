package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"t2t/shared/mapping"
)

// targetDomainsEnv names the target tenant's verified domains for `t2t validate` (comma-separated):
// the CLI never reads Graph, so the domain rule runs only when the operator says what they are.
const targetDomainsEnv = "T2T_TARGET_DOMAINS"

type validateResult struct {
	File        string             `json:"file"`
	Rows        rowCounts          `json:"rows"`
	FileError   string             `json:"fileError,omitempty"`
	Errors      []mapping.RowError `json:"errors"`
	ErrorsFile  string             `json:"errorsFile"`
	DomainCheck string             `json:"domainCheck"` // "checked" or "skipped"
}

type rowCounts struct {
	Total   int `json:"total"`
	Valid   int `json:"valid"`
	Invalid int `json:"invalid"`
}

func (c *cli) validateCommand() *cobra.Command {
	var errorsPath, domains string
	cmd := &cobra.Command{
		Use:   "validate FILE",
		Short: "Check a mapping file offline with WaveStart's row rules; write its errors.csv",
		Long: `validate applies the rules WaveStart applies to a mapping file, on this machine and without
uploading it: encoding, header, address syntax, repeated rows, one source mapped to two
destinations, two sources mapped onto one destination. The rule that every destination's domain is
a verified domain of the target tenant needs the target: it runs when --target-domains (or
` + targetDomainsEnv + `) lists them, and is skipped with a note otherwise.

Rejected rows are printed and written as CSV (row,column,value,reason) to --errors, by default
FILE's name with .errors.csv next to it (usermapping.csv -> usermapping.errors.csv).
Exit code 0 when every row is valid, 3 when rows (or the file) were rejected.`,
		Example: `  t2t validate usermapping.csv
  t2t validate usermapping.csv --target-domains fabrikam.com,fabrikam.onmicrosoft.com -o json`,
		Args:              args(cobra.ExactArgs(1)),
		ValidArgsFunction: csvFiles,
		RunE: c.runE(func(cmd *cobra.Command, a []string) error {
			if domains == "" {
				domains = c.getenv(targetDomainsEnv)
			}
			return c.validate(a[0], errorsPath, domains)
		}),
	}
	cmd.Flags().StringVar(&errorsPath, "errors", "", "where to write the rejected rows (default: FILE.errors.csv next to FILE)")
	cmd.Flags().StringVar(&domains, "target-domains", "", "the target tenant's verified domains, comma-separated (default: $"+targetDomainsEnv+")")
	return cmd
}

func csvFiles(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return []string{"csv"}, cobra.ShellCompDirectiveFilterFileExt
}

func (c *cli) validate(file, errorsPath, domains string) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return withCode(exitNotFound, fmt.Errorf("reading the mapping file: %w", err))
	}
	if errorsPath == "" {
		errorsPath = strings.TrimSuffix(file, filepath.Ext(file)) + ".errors.csv"
	}
	res := validateResult{File: file, ErrorsFile: errorsPath, DomainCheck: "skipped"}
	var verified map[string]bool
	if domains = strings.TrimSpace(domains); domains != "" {
		res.DomainCheck, verified = "checked", map[string]bool{}
		for _, d := range strings.Split(domains, ",") {
			if d = strings.ToLower(strings.TrimSpace(d)); d != "" {
				verified[d] = true
			}
		}
	}
	rows, bad, err := mapping.Parse(data)
	if err != nil {
		// The file as a whole is unusable: WaveStart would reject the wave with this reason.
		res.FileError, bad = err.Error(), []mapping.RowError{{Line: 1, Reason: err.Error()}}
	} else {
		var more []mapping.RowError
		rows, more = mapping.Validate(rows, verified)
		bad = append(bad, more...)
	}
	res.Errors = bad
	res.Rows = rowCounts{Valid: len(rows), Invalid: mapping.RejectedRows(bad)}
	res.Rows.Total = res.Rows.Valid + res.Rows.Invalid
	if err := os.WriteFile(errorsPath, mapping.ErrorsCSV(bad), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", errorsPath, err)
	}
	if c.json() {
		if res.Errors == nil {
			res.Errors = []mapping.RowError{}
		}
		if err := c.printJSON(res); err != nil {
			return err
		}
	} else {
		c.printValidation(res)
	}
	if res.FileError != "" || len(bad) > 0 {
		return withCode(exitFailures, fmt.Errorf("%s: %d of %d rows rejected%s (see %s)", file, res.Rows.Invalid,
			res.Rows.Total, fileErrorNote(res.FileError), errorsPath))
	}
	return nil
}

func fileErrorNote(reason string) string {
	if reason == "" {
		return ""
	}
	return "; the file is unusable: " + reason
}

func (c *cli) printValidation(res validateResult) {
	if res.DomainCheck == "skipped" {
		c.note("the destination domain rule was skipped: no target domains configured (--target-domains or %s); "+
			"WaveStart checks it against the target tenant", targetDomainsEnv)
	}
	if res.FileError != "" {
		c.printf("%s: the file is unusable: %s\n", res.File, res.FileError)
	}
	c.printf("%s: %d rows, %d valid, %d rejected\n", res.File, res.Rows.Total, res.Rows.Valid, res.Rows.Invalid)
	if len(res.Errors) > 0 {
		c.printf("%-6s %-12s %-40s %s\n", "ROW", "COLUMN", "VALUE", "REASON")
		for _, e := range res.Errors {
			c.printf("%-6d %-12s %-40s %s\n", e.Line, e.Column, mapping.Truncate(e.Value, 40), e.Reason)
		}
	}
	c.printf("errors: %s\n", res.ErrorsFile)
}
