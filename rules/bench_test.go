package rules

import (
	"os"
	"testing"
)

func demoConfig(b *testing.B) *Compiled {
	data, err := os.ReadFile("../configs/demo.yaml")
	if err != nil {
		b.Fatal(err)
	}
	cfg, err := Parse("demo.yaml", data)
	if err != nil {
		b.Fatal(err)
	}
	return cfg
}

// BenchmarkClassify classifies a product page's path with the demo rules
// (it is the fifth rule of seven: most paths test several).
func BenchmarkClassify(b *testing.B) {
	cfg := demoConfig(b)
	path := []byte("/p/essential-grey-slip-dress-se-10001")
	b.ReportAllocs()
	for b.Loop() {
		if t, _ := cfg.Classify(path); t != PageProduct {
			b.Fatal(t)
		}
		if cfg.CartAddFor([]byte("GET"), path) != nil {
			b.Fatal("cart add")
		}
	}
}
