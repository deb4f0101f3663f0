package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"t2t/shared/simulator"
)

// sampleCommand writes a demo mapping file for a simulator tenants file: real source users mapped onto the
// target's domain, some onto existing target accounts (matched), two sources that do not exist, and a
// few rows that break each validation rule. Deterministic for a given tenants file.
func sampleCommand() *cobra.Command {
	var tenants, source, target string
	var rows int
	cmd := &cobra.Command{
		Use:   "sample",
		Short: "Write a demo mapping file for a simulator tenants file to stdout",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return sample(cmd.Context(), tenants, source, target, rows)
		},
	}
	cmd.Flags().StringVar(&tenants, "tenants", "demo/tenants.json", "simulator tenants file")
	cmd.Flags().StringVar(&source, "source", "contoso", "source tenant name")
	cmd.Flags().StringVar(&target, "target", "fabrikam", "target tenant name")
	cmd.Flags().IntVar(&rows, "rows", 200, "rows to write")
	return cmd
}

func sample(ctx context.Context, tenants, source, target string, rows int) error {
	cfg, err := simulator.LoadConfig(tenants)
	if err != nil {
		return err
	}
	srv, err := simulator.New(cfg, nil)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if err := srv.Start(ctx); err != nil {
		return err
	}
	src, err := dumpUPNs(srv, source)
	if err != nil {
		return err
	}
	tgt, err := dumpUPNs(srv, target)
	if err != nil {
		return err
	}
	return writeSample(os.Stdout, src, tgt, rows)
}

type dumpedUser struct {
	UPN     string `json:"userPrincipalName"`
	Enabled bool   `json:"accountEnabled"`
}

func dumpUPNs(srv *simulator.Server, tenant string) ([]dumpedUser, error) {
	resp, err := srv.HTTPClient().Get(srv.URLs().GraphURL + "/_sim/tenants/" + tenant + "/dump")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var dump struct {
		Users []dumpedUser `json:"users"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&dump); err != nil {
		return nil, fmt.Errorf("decoding the %s dump: %w", tenant, err)
	}
	sort.Slice(dump.Users, func(i, j int) bool { return dump.Users[i].UPN < dump.Users[j].UPN })
	return dump.Users, nil
}

func writeSample(out io.Writer, src, tgt []dumpedUser, n int) error {
	domain := tgt[0].UPN[strings.IndexByte(tgt[0].UPN, '@')+1:]
	local := func(upn string) string { return upn[:strings.IndexByte(upn, '@')] }
	w := csv.NewWriter(out)
	w.UseCRLF = true
	_ = w.Write([]string{"Source", "Destination"})
	sourceLocals := map[string]bool{}
	for _, u := range src {
		sourceLocals[local(u.UPN)] = true
	}
	var enabledTarget, disabledTarget []string
	for _, u := range tgt {
		if sourceLocals[local(u.UPN)] {
			continue // some source would land on it by its own name: a rule conflict, not a match
		}
		if u.Enabled {
			enabledTarget = append(enabledTarget, u.UPN)
		} else {
			disabledTarget = append(disabledTarget, u.UPN)
		}
	}
	special := map[int][]string{
		7:   {"not-an-address", "x@" + domain},                           // bad source syntax
		19:  {src[200].UPN, local(src[200].UPN) + "@unverified.example"}, // unverified domain
		33:  {src[3].UPN, local(src[3].UPN) + "@" + domain},              // identical to an earlier row
		47:  {src[201].UPN, "first." + local(src[201].UPN) + "@" + domain},
		48:  {src[201].UPN, "second." + local(src[201].UPN) + "@" + domain}, // one source, two destinations
		61:  {src[202].UPN, "shared.mailbox@" + domain},
		62:  {src[203].UPN, "shared.mailbox@" + domain},                                                // two sources, one destination
		75:  {src[204].UPN, ""},                                                                        // no destination
		88:  {src[205].UPN, "bad name@" + domain},                                                      // space in the destination
		101: {"ghost.one@" + src[0].UPN[strings.IndexByte(src[0].UPN, '@')+1:], "ghost.one@" + domain}, // no such source
		102: {"ghost.two@" + src[0].UPN[strings.IndexByte(src[0].UPN, '@')+1:], "ghost.two@" + domain},
	}
	next, matched := 0, 0
	for i := 0; i < n; i++ {
		if row, ok := special[i]; ok {
			_ = w.Write(row)
			continue
		}
		s := src[next]
		next++
		dest := local(s.UPN) + "@" + domain
		switch {
		case i%20 == 10 && matched < len(enabledTarget):
			dest = enabledTarget[matched] // an account that already exists in the target: matched
			matched++
		case i == 150 && len(disabledTarget) > 0:
			dest = disabledTarget[0] // exists but disabled: reported, not used
		}
		_ = w.Write([]string{s.UPN, dest})
	}
	w.Flush()
	return w.Error()
}
