package redirect

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
)

// Runner runs the iptables command with args and returns its combined
// output. Tests replace it; Exec runs the real command.
type Runner func(ctx context.Context, args ...string) ([]byte, error)

// ErrNotPermitted: iptables refused for lack of privileges.
var ErrNotPermitted = errors.New("not permitted: proxy init needs CAP_NET_ADMIN (run it as root, or add the NET_ADMIN capability to the init container)")

// Exec returns a Runner of the named iptables command (nft or legacy backend
// alike), or a clear error when it is not installed.
func Exec(command string) (Runner, error) {
	path, err := exec.LookPath(command)
	if err != nil {
		return nil, fmt.Errorf("%s not found: install it (Debian: apt-get install iptables): %w", command, err)
	}
	return func(ctx context.Context, args ...string) ([]byte, error) {
		out, err := exec.CommandContext(ctx, path, args...).CombinedOutput()
		if err != nil && notPermitted(out) {
			return out, fmt.Errorf("%w: %s", ErrNotPermitted, bytes.TrimSpace(out))
		}
		return out, err
	}, nil
}

func notPermitted(out []byte) bool {
	s := string(out)
	return strings.Contains(s, "Permission denied") || strings.Contains(s, "Operation not permitted")
}

// Apply runs the steps in order with run, which runs their Command. It stops at the first failure,
// naming the command that failed.
func Apply(ctx context.Context, steps []Step, run Runner) error {
	for _, s := range steps {
		switch s.Kind {
		case CreateChain:
			// iptables -S CHAIN succeeds only when the chain exists.
			if _, err := run(ctx, listChain(s.Args)...); err == nil {
				continue
			} else if errors.Is(err, ErrNotPermitted) {
				return fmt.Errorf("%s: %w", commandLine(s), err)
			}
		case EnsureRule:
			if _, err := run(ctx, checkRule(s.Args)...); err == nil {
				continue
			} else if errors.Is(err, ErrNotPermitted) {
				return fmt.Errorf("%s: %w", commandLine(s), err)
			}
		}
		if out, err := run(ctx, s.Args...); err != nil {
			if errors.Is(err, ErrNotPermitted) {
				return fmt.Errorf("%s: %w", commandLine(s), err)
			}
			return fmt.Errorf("%s: %w: %s", commandLine(s), err, bytes.TrimSpace(out))
		}
	}
	return nil
}

func commandLine(s Step) string { return s.Command + " " + strings.Join(s.Args, " ") }

// listChain turns "-t nat -N CHAIN" into "-t nat -S CHAIN".
func listChain(args []string) []string { return replaceVerb(args, "-N", "-S") }

// checkRule turns "-t nat -A CHAIN rule..." into "-t nat -C CHAIN rule...".
func checkRule(args []string) []string { return replaceVerb(args, "-A", "-C") }

func replaceVerb(args []string, from, to string) []string {
	out := append([]string(nil), args...)
	for i, a := range out {
		if a == from {
			out[i] = to
			break
		}
	}
	return out
}
