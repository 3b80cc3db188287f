package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
)

// Process is one process the node runs for pods, as GET /processes reports it: a kubelet has
// no such query, but the tests need one of the real node (what runs after destroy, what
// memory each pod holds) and ask the node's API for it, with the cluster admin's credentials.
type Process struct {
	PID     int    `json:"pid"`
	Pod     string `json:"pod,omitempty"` // namespace/name; none when no container's process tree holds it
	Cmdline string `json:"cmdline"`
	RSSKiB  int    `json:"rssKiB"`
}

// ProcessesPath is where the node serves its processes.
const ProcessesPath = "/processes"

// serveProcesses answers GET /processes: every descendant of this agent, with its pod.
func (a *Agent) serveProcesses(w http.ResponseWriter, _ *http.Request) {
	procs, err := a.processes()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(procs)
}

// processes walks this machine's process table from the agent down; a process belongs to the
// pod whose container process it is, or descends from.
func (a *Agent) processes() ([]Process, error) {
	table, err := readProcTable()
	if err != nil {
		return nil, err
	}
	podOf := map[int]string{}
	a.mu.Lock()
	for key, r := range a.pods {
		r.mu.Lock()
		for _, p := range r.procs {
			podOf[p.proc.Pid] = key
		}
		r.mu.Unlock()
	}
	a.mu.Unlock()
	children := map[int][]int{}
	for pid, p := range table {
		children[p.ppid] = append(children[p.ppid], pid)
	}
	var out []Process
	var walk func(pid int, pod string)
	walk = func(pid int, pod string) {
		for _, c := range children[pid] {
			if k, ok := podOf[c]; ok {
				pod = k
			}
			p := table[c]
			out = append(out, Process{PID: c, Pod: pod, Cmdline: p.cmdline, RSSKiB: p.rssKiB})
			walk(c, pod)
		}
	}
	walk(os.Getpid(), "")
	sort.Slice(out, func(i, j int) bool { return out[i].PID < out[j].PID })
	return out, nil
}

// procEntry is what the node reads of one process in /proc.
type procEntry struct {
	ppid    int
	cmdline string
	rssKiB  int
}

// readProcTable reads every process of this PID namespace; one that ends while it reads is left out.
func readProcTable() (map[int]procEntry, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	out := map[int]procEntry{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			continue
		}
		var p procEntry
		for _, line := range strings.Split(string(status), "\n") {
			key, value, _ := strings.Cut(line, ":")
			switch f := strings.Fields(value); {
			case key == "PPid" && len(f) == 1:
				p.ppid, _ = strconv.Atoi(f[0])
			case key == "VmRSS" && len(f) >= 1:
				p.rssKiB, _ = strconv.Atoi(f[0])
			}
		}
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		p.cmdline = strings.TrimSpace(strings.ReplaceAll(string(b), "\x00", " "))
		out[pid] = p
	}
	return out, nil
}
