/* A thin C shim over libev for lws-loop-libev: libev's watchers are
 * macro-defined structs whose layout depends on libev's build options, so
 * they are allocated and initialised here, and every callback is routed to
 * one Rust function with the watcher's opaque `data`. */
#include <ev.h>
#include <stdlib.h>

typedef void (*lws_ev_cb)(void *data, int revents);

typedef struct { ev_io w; lws_ev_cb cb; void *data; } lws_io;
typedef struct { ev_timer w; lws_ev_cb cb; void *data; } lws_timer;
typedef struct { ev_idle w; lws_ev_cb cb; void *data; } lws_idle;

static void io_cb(struct ev_loop *l, ev_io *w, int revents) { (void)l; lws_io *x = (lws_io *)w; x->cb(x->data, revents); }
static void timer_cb(struct ev_loop *l, ev_timer *w, int revents) { (void)l; lws_timer *x = (lws_timer *)w; x->cb(x->data, revents); }
static void idle_cb(struct ev_loop *l, ev_idle *w, int revents) { (void)l; lws_idle *x = (lws_idle *)w; x->cb(x->data, revents); }

int lws_ev_read(void) { return EV_READ; }
int lws_ev_write(void) { return EV_WRITE; }
int lws_ev_error(void) { return EV_ERROR; }

struct ev_loop *lws_ev_loop_new(void) { return ev_loop_new(EVFLAG_AUTO); }
void lws_ev_loop_destroy(struct ev_loop *l) { ev_loop_destroy(l); }
void lws_ev_run_once(struct ev_loop *l) { ev_run(l, EVRUN_ONCE); }
/* Non-zero while referencing watchers keep the loop alive. */
int lws_ev_run_nowait(struct ev_loop *l) { return ev_run(l, EVRUN_NOWAIT); }
void lws_ev_now_update(struct ev_loop *l) { ev_now_update(l); }

lws_io *lws_ev_io_new(int fd, lws_ev_cb cb, void *data) {
    lws_io *x = calloc(1, sizeof *x);
    if (!x) return 0;
    ev_io_init(&x->w, io_cb, fd, 0);
    x->cb = cb; x->data = data;
    return x;
}
/* Change the events watched (0: stop). */
void lws_ev_io_set(struct ev_loop *l, lws_io *x, int events) {
    ev_io_stop(l, &x->w);
    if (events) { ev_io_set(&x->w, x->w.fd, events); ev_io_start(l, &x->w); }
}
void lws_ev_io_free(struct ev_loop *l, lws_io *x) { ev_io_stop(l, &x->w); free(x); }

lws_timer *lws_ev_timer_new(lws_ev_cb cb, void *data) {
    lws_timer *x = calloc(1, sizeof *x);
    if (!x) return 0;
    ev_timer_init(&x->w, timer_cb, 0., 0.);
    x->cb = cb; x->data = data;
    return x;
}
/* Fire once after `after` seconds (negative: stop). */
void lws_ev_timer_set(struct ev_loop *l, lws_timer *x, double after) {
    ev_timer_stop(l, &x->w);
    if (after >= 0.) { ev_timer_set(&x->w, after, 0.); ev_timer_start(l, &x->w); }
}
void lws_ev_timer_free(struct ev_loop *l, lws_timer *x) { ev_timer_stop(l, &x->w); free(x); }

/* A repeating timer (for hosts and tests) that does not keep the loop
 * alive (ev_unref), so ev_run's return value shows other watchers. */
lws_timer *lws_ev_timer_repeat(struct ev_loop *l, double every, lws_ev_cb cb, void *data) {
    lws_timer *x = lws_ev_timer_new(cb, data);
    if (!x) return 0;
    ev_timer_set(&x->w, every, every);
    ev_timer_start(l, &x->w);
    ev_unref(l);
    return x;
}

lws_idle *lws_ev_idle_new(lws_ev_cb cb, void *data) {
    lws_idle *x = calloc(1, sizeof *x);
    if (!x) return 0;
    ev_idle_init(&x->w, idle_cb);
    x->cb = cb; x->data = data;
    return x;
}
void lws_ev_idle_set(struct ev_loop *l, lws_idle *x, int on) {
    if (on) ev_idle_start(l, &x->w); else ev_idle_stop(l, &x->w);
}
void lws_ev_idle_free(struct ev_loop *l, lws_idle *x) { ev_idle_stop(l, &x->w); free(x); }


/* Stop and free a timer made by lws_ev_timer_repeat (re-referencing the
 * loop first, as libev asks for unreferenced watchers). */
void lws_ev_timer_repeat_free(struct ev_loop *l, lws_timer *x) { ev_ref(l); ev_timer_stop(l, &x->w); free(x); }
