package main

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// watcher tells when a configuration file has changed.
type watcher struct {
	w       *fsnotify.Watcher
	changed chan struct{}
	done    chan struct{}
}

// settle is how long a file must stay unchanged before a change counts: an
// editor writes a file in several steps (truncate, write, rename).
const settle = 250 * time.Millisecond

// watchFile watches path. It watches the file's directory, not the file:
// editors and deploy tools replace a file by renaming another over it,
// which ends a watch on the file itself.
func watchFile(path string, log *slog.Logger) (*watcher, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", path, err)
	}
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", path, err)
	}
	if err := fw.Add(filepath.Dir(abs)); err != nil {
		fw.Close()
		return nil, fmt.Errorf("watch %s: %w", path, err)
	}
	w := &watcher{w: fw, changed: make(chan struct{}, 1), done: make(chan struct{})}
	go w.run(abs, log)
	return w, nil
}

func (w *watcher) run(abs string, log *slog.Logger) {
	defer close(w.done)
	var timer *time.Timer
	var fire <-chan time.Time
	for {
		select {
		case ev, ok := <-w.w.Events:
			if !ok {
				return
			}
			if filepath.Clean(ev.Name) != abs || !ev.Has(fsnotify.Write|fsnotify.Create|fsnotify.Rename) {
				continue
			}
			if timer == nil {
				timer = time.NewTimer(settle)
			} else {
				timer.Reset(settle)
			}
			fire = timer.C
		case <-fire:
			fire = nil
			select {
			case w.changed <- struct{}{}:
			default: // one pending reload is enough
			}
		case err, ok := <-w.w.Errors:
			if !ok {
				return
			}
			log.Warn("watching the configuration file", "err", err)
		}
	}
}

// Close stops watching.
func (w *watcher) Close() {
	_ = w.w.Close()
	<-w.done
}
