// Command expfmt_parse reads a Prometheus text exposition with the reference Go parser, expfmt's
// TextParser (github.com/prometheus/common), the way `trimtab probe --file` reads it with
// trimtab's: the whole file into memory, then one parse. bench/parse/compare_expfmt.sh builds it
// against Debian's golang-github-prometheus-common-dev (GOPATH mode, no module download) and times
// both programs on the same file.
package main

import (
	"bytes"
	"fmt"
	"os"
	"time"

	"github.com/prometheus/common/expfmt"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: expfmt_parse FILE")
		os.Exit(1)
	}
	data, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	start := time.Now()
	var parser expfmt.TextParser
	families, err := parser.TextToMetricFamilies(bytes.NewReader(data))
	elapsed := time.Since(start)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	series := 0
	for _, family := range families {
		series += len(family.GetMetric())
	}
	fmt.Printf("%d families, %d series, %d bytes, parsed in %.3f s\n", len(families), series, len(data), elapsed.Seconds())
}
