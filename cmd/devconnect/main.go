// Command devconnect reads a stack's devEndpoints output (devendpoints.Endpoint, on stdin, as
// `pulumi stack output devEndpoints --json` prints it) for scripts/dev-connect.sh, which starts
// the forwards:
//
//	devconnect -table NAMESPACE   what runs where, and where a laptop reaches it
//	devconnect -forwards          one line per forward: SERVICE LOCAL-PORT SERVICE-PORT
//	devconnect -key               the API key's Secret and its file (1.12's hand-off), on no input
package main

import (
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"

	"github.com/spaceone-pulumi/spaceone/components/apikey"
	"github.com/spaceone-pulumi/spaceone/components/devendpoints"
)

func main() {
	table := flag.String("table", "", "print the table, with the Services in this namespace")
	forwards := flag.Bool("forwards", false, "print the forwards to start")
	key := flag.Bool("key", false, "print the API key's Secret and the name of its file")
	flag.Parse()
	if *key {
		fmt.Println(apikey.SecretName, apikey.FileName)
		return
	}
	if (*table == "") == !*forwards || flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: devconnect -table NAMESPACE | -forwards   (devEndpoints on stdin) | -key")
		os.Exit(2)
	}
	if err := run(os.Stdin, os.Stdout, *table); err != nil {
		fmt.Fprintln(os.Stderr, "dev-connect:", err)
		os.Exit(1)
	}
}

func run(in io.Reader, out io.Writer, namespace string) error {
	b, err := io.ReadAll(in)
	if err != nil {
		return err
	}
	endpoints, err := devendpoints.Parse(b)
	if err != nil {
		return err
	}
	if namespace != "" {
		t, err := devendpoints.Table(endpoints, namespace)
		if err != nil {
			return err
		}
		_, err = io.WriteString(out, t)
		return err
	}
	fw, err := devendpoints.Forwards(endpoints)
	if err != nil {
		return err
	}
	for _, name := range slices.Sorted(maps.Keys(fw)) {
		f := fw[name]
		if _, err := fmt.Fprintf(out, "%s %d %d\n", f.Service, f.LocalPort, f.ServicePort); err != nil {
			return err
		}
	}
	return nil
}
