// A peer for bench/: an echo server as Go services are commonly written, one
// goroutine per connection, bufio line reads, one Write per reply line; the
// same line protocol as echod (prefix "echo : ", '\r' before '\n' dropped,
// exit -> FIN, half-close echoes the rest). Bench-only.
//
//	go-echo-server -port=0   (prints "listening on 127.0.0.1:PORT")
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
)

const maxLine = 65536

var prefix = []byte("echo : ")

func serve(conn net.Conn) {
	defer conn.Close()
	reader := bufio.NewReaderSize(conn, 16*1024)
	reply := make([]byte, 0, 256)
	var partial []byte
	for {
		chunk, err := reader.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			partial = append(partial, chunk...)
			if len(partial) > maxLine+1 {
				conn.Write([]byte("ERR line too long\n"))
				return
			}
			continue
		}
		line := chunk
		if len(partial) > 0 {
			partial = append(partial, chunk...)
			line = partial
		}
		if err != nil && err != io.EOF {
			return
		}
		ended := err == io.EOF
		if ended && len(line) == 0 {
			return
		}
		line = bytes.TrimSuffix(line, []byte("\n"))
		line = bytes.TrimSuffix(line, []byte("\r"))
		if string(line) == "exit" {
			conn.Write([]byte("FIN\n"))
			return
		}
		reply = append(append(append(reply[:0], prefix...), line...), '\n')
		if _, werr := conn.Write(reply); werr != nil {
			return
		}
		partial = partial[:0]
		if ended {
			return
		}
	}
}

func main() {
	port := flag.Int("port", 0, "TCP port; 0 picks a free one")
	flag.Parse()
	listener, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", *port))
	if err != nil {
		fmt.Fprintln(os.Stderr, "go-echo-server: cannot listen:", err)
		os.Exit(69)
	}
	fmt.Fprintln(os.Stderr, "listening on", listener.Addr().String())
	for {
		conn, err := listener.Accept()
		if err != nil {
			continue
		}
		go serve(conn)
	}
}
