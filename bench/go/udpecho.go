// A UDP peer for bench/: a UDP echo as Go services write it, one goroutine
// reading a datagram and writing the reply ("echo : " + datagram) with one
// ReadFrom and one WriteTo each. Bench-only.
//
//	go-udp-echo-server -port=0   (prints "UDP echo on 127.0.0.1:PORT")
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
)

func main() {
	port := flag.Int("port", 0, "UDP port (0: any free one)")
	flag.Parse()
	conn, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", *port))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "UDP echo on %s\n", conn.LocalAddr())
	prefix := []byte("echo : ")
	buffer := make([]byte, 65536)
	reply := make([]byte, 0, 65536+len(prefix))
	for {
		n, from, err := conn.ReadFrom(buffer)
		if err != nil {
			continue
		}
		reply = append(append(reply[:0], prefix...), buffer[:n]...)
		conn.WriteTo(reply, from)
	}
}
