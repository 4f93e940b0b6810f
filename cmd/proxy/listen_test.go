package main

import (
	"net"
	"testing"
)

func TestListenAll_AcceptsOnEveryAddressOfTheList(t *testing.T) {
	ln, err := listenAll("127.0.0.1:0, 127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	merged, ok := ln.(*mergedListener)
	if !ok || len(merged.lns) != 2 {
		t.Fatalf("listener %T, want two merged", ln)
	}
	for _, l := range merged.lns {
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		got, err := ln.Accept()
		if err != nil {
			t.Fatalf("accept from %s: %v", l.Addr(), err)
		}
		if got.LocalAddr().String() != l.Addr().String() {
			t.Errorf("accepted on %s, dialled %s", got.LocalAddr(), l.Addr())
		}
		got.Close()
		c.Close()
	}
	_ = ln.Close()
	if _, err := ln.Accept(); err == nil {
		t.Error("Accept after Close succeeded")
	}
}

func TestListenAll_FailsWhenAnyAddressCannotBeBound(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	if ln, err := listenAll("127.0.0.1:0," + busy.Addr().String()); err == nil {
		ln.Close()
		t.Fatal("bound a port already in use")
	}
}
