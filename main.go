// Command postform declares physical mail in HCL and posts it exactly once.
package main

import (
	"os"

	"github.com/postform/postform/cli"
)

func main() {
	os.Exit(cli.Execute())
}
