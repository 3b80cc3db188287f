package main

import (
	"log"
	"net"
	"strings"

	"github.com/miekg/dns"
)

// serveDNS answers the pods' lookups as a cluster's DNS does: <service>.<namespace>.svc.cluster.local
// (and <hostname>.<service>... for the pods of headless Services) from the same records as the
// hosts files; every other name is NXDOMAIN at once, so nothing waits for a server that is not
// there. The pods' resolv.conf names it with the kubelet's search path.
func (s *Services) serveDNS(addr string) (net.Addr, error) {
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		return nil, err
	}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(req)
		m.Authoritative = true
		m.Rcode = dns.RcodeNameError
		for _, q := range req.Question {
			name := strings.ToLower(strings.TrimSuffix(q.Name, "."))
			s.mu.Lock()
			ip, ok := s.records[name]
			s.mu.Unlock()
			if !ok {
				continue
			}
			m.Rcode = dns.RcodeSuccess
			if q.Qtype == dns.TypeA || q.Qtype == dns.TypeANY {
				m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 5}, A: net.ParseIP(ip)})
			}
		}
		w.WriteMsg(m)
	})}
	go func() {
		if err := srv.ActivateAndServe(); err != nil {
			log.Printf("dns: %v", err)
		}
	}()
	return pc.LocalAddr(), nil
}
