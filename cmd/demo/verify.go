package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/citizenpay/gateway/internal/verify"
)

// verify runs `gatewayctl verify` over the database, the webhooks the
// portal received, and the sandbox accounts' numbers, which must appear in
// clear nowhere.
func (s *story) verify(ctx context.Context) error {
	s.title("The operator checks every invariant with `gatewayctl verify`")
	if os.Getenv("DATABASE_URL") == "" {
		return errors.New("DATABASE_URL is not set: run the demo with `make demo`, which sets it as `make run` does")
	}
	dir, err := os.MkdirTemp("", "demo-verify-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	accounts := filepath.Join(dir, "accounts.txt")
	if err := os.WriteFile(accounts, []byte(demoAccount+"\n"+otherAccount+"\n"), 0o600); err != nil {
		return err
	}
	args := []string{"verify", "--logs", s.cfg.webhooksLog, "--accounts", accounts}
	s.sent("%s verify --logs %s --accounts FILE (the sandbox's two account numbers, to look for in clear)",
		s.cfg.gatewayctl, s.cfg.webhooksLog)
	cmd := exec.CommandContext(ctx, s.cfg.gatewayctl, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	var rep verify.Report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		return fmt.Errorf("gatewayctl verify: %v: %s", runErr, strings.TrimSpace(stderr.String()))
	}
	for _, inv := range rep.Invariants {
		mark := "holds"
		if !inv.OK {
			mark = fmt.Sprintf("VIOLATED (%d)", len(inv.Violations)+inv.Omitted)
		}
		s.got("invariant %d, %s: %s", inv.Invariant, inv.Name, mark)
		for _, v := range inv.Violations {
			s.say(fmt.Sprintf("%s %s: %s", v.Check, v.ID, v.Detail))
		}
	}
	if n := len(rep.OpenIncidents); n > 0 {
		s.say(fmt.Sprintf("%d open incidents wait for the operator (`gatewayctl incidents list`)", n))
	}
	if !rep.OK || runErr != nil {
		return fmt.Errorf("gatewayctl verify found violations: %s", strings.TrimSpace(stderr.String()))
	}
	s.say(fmt.Sprintf("clean: all %d invariants hold", len(rep.Invariants)))
	return nil
}
