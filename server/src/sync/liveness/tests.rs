//! The connection's clock rules on a fake clock: `Instant` arithmetic, no
//! runtime, no sleeps.

use std::time::{Duration, Instant};

use super::{CLOSE_GRACE, Decision, Keepalive, Liveness, Written};
use crate::config::Limits;
use crate::table::reason::Reason;

const KEEPALIVE: Duration = Duration::from_secs(10);
const IDLE: Duration = Duration::from_secs(120);
const STALL: Duration = Duration::from_secs(30);

fn limits() -> Limits {
    Limits {
        keepalive_interval: KEEPALIVE,
        idle_timeout: IDLE,
        write_timeout: STALL,
        messages_per_second: 10,
        bytes_per_second: 1000,
        max_message_bytes: 1500,
        ..Limits::default()
    }
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn ms(ms: u64) -> Duration {
    Duration::from_millis(ms)
}

const BOTH: Keepalive = Keepalive {
    message: true,
    ping: true,
};
const PING: Keepalive = Keepalive {
    message: false,
    ping: true,
};
const MESSAGE: Keepalive = Keepalive {
    message: true,
    ping: false,
};

/// Writes `what` at `at`, taking no time.
fn write(liveness: &mut Liveness, at: Instant, what: Written) {
    liveness.write_started(at);
    liveness.write_finished(at, what);
}

#[test]
fn a_quiet_connection_gets_a_keepalive_and_a_ping_each_interval() {
    let t0 = Instant::now();
    let mut l = Liveness::new(&limits(), t0);
    assert_eq!(l.poll(t0), Decision::Wait(t0 + KEEPALIVE));
    assert_eq!(
        l.poll(t0 + KEEPALIVE - ms(1)),
        Decision::Wait(t0 + KEEPALIVE)
    );
    assert_eq!(l.poll(t0 + KEEPALIVE), Decision::Keepalive(BOTH));
    write(&mut l, t0 + KEEPALIVE, Written::Keepalive(BOTH));
    assert_eq!(l.poll(t0 + KEEPALIVE), Decision::Wait(t0 + 2 * KEEPALIVE));
}

#[test]
fn messages_sent_put_off_the_keepalive_message_but_not_the_ping() {
    let t0 = Instant::now();
    let mut l = Liveness::new(&limits(), t0);
    write(&mut l, t0 + secs(5), Written::Messages);
    // The client heard from us 5 s ago, but we have not heard from it.
    assert_eq!(l.poll(t0 + KEEPALIVE), Decision::Keepalive(PING));
    write(&mut l, t0 + KEEPALIVE, Written::Keepalive(PING));
    assert_eq!(l.poll(t0 + KEEPALIVE), Decision::Wait(t0 + secs(15)));
    assert_eq!(l.poll(t0 + secs(15)), Decision::Keepalive(MESSAGE));
}

#[test]
fn a_client_that_sends_is_not_pinged() {
    let t0 = Instant::now();
    let mut l = Liveness::new(&limits(), t0);
    l.frame_received(t0 + secs(5), 10).unwrap();
    assert_eq!(l.poll(t0 + KEEPALIVE), Decision::Keepalive(MESSAGE));
    write(&mut l, t0 + KEEPALIVE, Written::Keepalive(MESSAGE));
    assert_eq!(l.poll(t0 + KEEPALIVE), Decision::Wait(t0 + secs(15)));
    assert_eq!(l.poll(t0 + secs(15)), Decision::Keepalive(PING));
}

#[test]
fn a_client_reading_a_busy_table_is_still_pinged_every_interval() {
    let t0 = Instant::now();
    let mut l = Liveness::new(&limits(), t0);
    let mut pings = Vec::new();
    for s in 1..=30 {
        let now = t0 + secs(s);
        write(&mut l, now, Written::Messages);
        if let Decision::Keepalive(keepalive) = l.poll(now) {
            assert_eq!(keepalive, PING, "at {s} s");
            write(&mut l, now, Written::Keepalive(keepalive));
            pings.push(s);
        }
    }
    assert_eq!(pings, [10, 20, 30]);
}

#[test]
fn a_client_that_answers_no_ping_is_closed_after_the_idle_timeout() {
    let t0 = Instant::now();
    let mut l = Liveness::new(&limits(), t0);
    let mut now = t0;
    let closed_at = loop {
        match l.poll(now) {
            Decision::Wait(at) => {
                assert!(at > now, "a wait that does not move on: {at:?} at {now:?}");
                now = at;
            }
            Decision::Keepalive(keepalive) => write(&mut l, now, Written::Keepalive(keepalive)),
            Decision::Close(reason) => break (now, reason),
            Decision::CatchUp => panic!("no catch-up was asked for"),
        }
    };
    assert_eq!(closed_at, (t0 + IDLE, Reason::Idle));
}

#[test]
fn a_pong_resets_the_idle_timeout() {
    let t0 = Instant::now();
    let mut l = Liveness::new(&limits(), t0);
    l.control_received(t0 + secs(100));
    assert!(matches!(l.poll(t0 + IDLE), Decision::Keepalive(_)));
    assert_eq!(l.expiry(t0 + IDLE), Ok(t0 + secs(100) + IDLE));
    assert_eq!(l.expiry(t0 + secs(100) + IDLE), Err(Reason::Idle));
}

#[test]
fn a_client_that_answers_every_ping_stays_for_hours() {
    let t0 = Instant::now();
    let mut l = Liveness::new(&limits(), t0);
    let rtt = ms(50);
    let mut now = t0;
    let mut pong: Option<Instant> = None;
    let mut pings = 0;
    while now <= t0 + secs(3 * 3600) {
        let decision = l.poll(now);
        match decision {
            Decision::Wait(at) => {
                assert!(at > now);
                now = match pong.take() {
                    Some(answer) if answer <= at => {
                        l.control_received(answer);
                        answer
                    }
                    other => {
                        pong = other;
                        at
                    }
                };
            }
            Decision::Keepalive(keepalive) => {
                write(&mut l, now, Written::Keepalive(keepalive));
                if keepalive.ping {
                    pings += 1;
                    pong = Some(now + rtt);
                }
            }
            Decision::Close(_) | Decision::CatchUp => panic!("{decision:?} at {:?}", now - t0),
        }
    }
    // One ping an interval, no more: the pongs do not shift the schedule.
    assert_eq!(pings, 3 * 360, "pings in 3 hours");
}

#[test]
fn a_write_the_client_does_not_take_closes_it_as_stalled() {
    let t0 = Instant::now();
    let mut l = Liveness::new(&limits(), t0);
    l.write_started(t0 + secs(1));
    assert_eq!(l.poll(t0 + secs(1)), Decision::Wait(t0 + secs(1) + STALL));
    assert_eq!(
        l.expiry(t0 + secs(1) + STALL - ms(1)),
        Ok(t0 + secs(1) + STALL)
    );
    assert_eq!(
        l.poll(t0 + secs(1) + STALL),
        Decision::Close(Reason::Stalled)
    );
}

#[test]
fn a_stalled_write_closes_even_while_frames_arrive() {
    let t0 = Instant::now();
    let mut l = Liveness::new(&limits(), t0);
    l.write_started(t0);
    for s in 1..STALL.as_secs() {
        l.frame_received(t0 + secs(s), 10).unwrap();
        assert_eq!(l.poll(t0 + secs(s)), Decision::Wait(t0 + STALL));
    }
    assert_eq!(l.poll(t0 + STALL), Decision::Close(Reason::Stalled));
}

#[test]
fn a_finished_write_stops_the_stall_clock() {
    let t0 = Instant::now();
    let mut l = Liveness::new(&limits(), t0);
    l.write_started(t0);
    l.write_finished(t0 + STALL - ms(1), Written::Messages);
    l.control_received(t0 + STALL - ms(1));
    assert!(l.expiry(t0 + STALL * 2).is_ok());
}

#[test]
fn an_idle_client_is_closed_even_during_a_write() {
    let t0 = Instant::now();
    let mut l = Liveness::new(&limits(), t0);
    l.write_started(t0 + IDLE - secs(1));
    assert_eq!(l.expiry(t0 + IDLE - secs(1)), Ok(t0 + IDLE));
    assert_eq!(l.poll(t0 + IDLE), Decision::Close(Reason::Idle));
}

#[test]
fn nothing_is_written_while_a_write_is_in_progress() {
    let t0 = Instant::now();
    let mut l = Liveness::new(&limits(), t0);
    l.catch_up_at(t0 + secs(6));
    l.write_started(t0 + secs(5));
    // Keepalive and catch-up are both due, but the socket is busy: only
    // the stall can end the wait.
    assert_eq!(l.poll(t0 + secs(12)), Decision::Wait(t0 + secs(5) + STALL));
    l.write_finished(t0 + secs(13), Written::Messages);
    assert_eq!(l.poll(t0 + secs(13)), Decision::CatchUp);
    assert!(!l.catch_up_waiting());
    assert_eq!(l.poll(t0 + secs(13)), Decision::Keepalive(PING));
}

#[test]
fn a_deferred_catch_up_is_due_at_its_time_and_once() {
    let t0 = Instant::now();
    let mut l = Liveness::new(&limits(), t0);
    l.catch_up_at(t0 + ms(700));
    assert!(l.catch_up_waiting());
    assert_eq!(l.poll(t0), Decision::Wait(t0 + ms(700)));
    assert_eq!(l.poll(t0 + ms(700)), Decision::CatchUp);
    assert_eq!(l.poll(t0 + ms(700)), Decision::Wait(t0 + KEEPALIVE));
}

#[test]
fn a_burst_of_twice_the_rate_passes_and_one_more_is_refused() {
    let t0 = Instant::now();
    let mut l = Liveness::new(&limits(), t0);
    for i in 0..20 {
        assert_eq!(l.frame_received(t0, 1), Ok(()), "message {i}");
    }
    assert_eq!(l.frame_received(t0, 1), Err(Reason::TooFast));
}

#[test]
fn the_message_bucket_refills_at_the_rate() {
    let t0 = Instant::now();
    let mut l = Liveness::new(&limits(), t0);
    for _ in 0..20 {
        l.frame_received(t0, 1).unwrap();
    }
    let later = t0 + ms(500);
    for i in 0..5 {
        assert_eq!(
            l.frame_received(later, 1),
            Ok(()),
            "message {i} after 0.5 s"
        );
    }
    assert_eq!(l.frame_received(later, 1), Err(Reason::TooFast));
    // A steady ten a second passes for as long as it lasts.
    for i in 1..=600 {
        assert_eq!(
            l.frame_received(later + ms(100 * i), 1),
            Ok(()),
            "steady {i}"
        );
    }
}

#[test]
fn the_buckets_refill_no_further_than_the_burst() {
    let t0 = Instant::now();
    let mut l = Liveness::new(&limits(), t0);
    let hour = t0 + secs(3600);
    for i in 0..20 {
        assert_eq!(l.frame_received(hour, 1), Ok(()), "message {i}");
    }
    assert_eq!(l.frame_received(hour, 1), Err(Reason::TooFast));
}

#[test]
fn the_byte_bucket_refuses_what_the_message_count_allows() {
    let t0 = Instant::now();
    let mut l = Liveness::new(&limits(), t0);
    // The byte burst is twice 1000 bytes a second.
    assert_eq!(l.frame_received(t0, 1000), Ok(()));
    assert_eq!(l.frame_received(t0, 1000), Ok(()));
    assert_eq!(l.frame_received(t0, 1), Err(Reason::TooFast));
    assert_eq!(l.frame_received(t0 + secs(1), 1000), Ok(()));
}

#[test]
fn one_maximum_size_message_always_passes() {
    let t0 = Instant::now();
    let slow = Limits {
        bytes_per_second: 100,
        ..limits()
    };
    let mut l = Liveness::new(&slow, t0);
    assert_eq!(l.frame_received(t0, 1500), Ok(()));
    assert_eq!(l.frame_received(t0, 1), Err(Reason::TooFast));
    assert_eq!(l.frame_received(t0 + secs(15), 1500), Ok(()));
}

#[test]
fn a_close_frame_gets_a_grace_period() {
    let t0 = Instant::now();
    assert_eq!(Liveness::close_deadline(t0), t0 + CLOSE_GRACE);
}
