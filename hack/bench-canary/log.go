package main

import (
	"fmt"
	"os"
	"time"
)

// logf writes progress to stderr so stdout holds only the table.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[bench-canary %s] %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}
