//! The membership table: transitions at exact instants, replay rules, member list changes, health.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use crate::members::table::{Change, Rejection, Table, TableConfig};
use crate::members::wire::{BootId, Heartbeat, Standing};

/// Unix ms of our clock in these tests; heartbeats are sent at this time unless said otherwise.
const WALL: u64 = 1_700_000_000_000;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A table for "me" with members "a", "b", "c" (or the given ones), created at `t0`.
fn table(t0: Instant, members: &[&str]) -> Table {
    let mut table = Table::new("me", TableConfig::default(), t0);
    assert_eq!(table.set_members(members.iter().copied(), t0), vec![]);
    table
}

fn hb(node: &str, boot: u64, seq: u64) -> Heartbeat {
    Heartbeat {
        node: node.into(),
        boot: BootId(boot),
        seq,
        sent_at_ms: WALL,
        standing: Standing::Member,
        reads_reports: true,
        report: None,
    }
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|n| n.to_string()).collect()
}

fn alive(n: &str) -> Change {
    Change::Alive(n.into())
}

fn dead(n: &str) -> Change {
    Change::Dead(n.into())
}

#[test]
fn first_heartbeat_makes_a_member_alive_and_silence_kills_it_at_exactly_suspect_after() {
    let t0 = Instant::now();
    let mut t = table(t0, &["a", "b", "c"]);
    assert_eq!(t.alive(), set(&["me"]), "unheard members are not alive");
    assert_eq!(t.on_heartbeat(&hb("a", 1, 1), t0 + ms(10), WALL), Ok(vec![alive("a")]));
    assert_eq!(t.on_heartbeat(&hb("a", 1, 2), t0 + ms(110), WALL), Ok(vec![]), "already alive");
    assert_eq!(t.alive(), set(&["me", "a"]));
    assert_eq!(t.next_deadline(), Some(t0 + ms(410)));
    assert_eq!(t.tick(t0 + ms(409)), vec![]);
    assert_eq!(t.tick(t0 + ms(410)), vec![dead("a"), Change::Healthy(false)], "a was the only one heard");
    assert_eq!(t.alive(), set(&["me"]));
    assert_eq!(t.tick(t0 + ms(1000)), vec![], "a dead member dies once");
    assert_eq!(t.on_heartbeat(&hb("a", 1, 3), t0 + ms(1100), WALL), Ok(vec![alive("a"), Change::Healthy(true)]));
}

#[test]
fn deadlines_follow_the_earliest_member() {
    let t0 = Instant::now();
    let mut t = table(t0, &["a", "b"]);
    t.on_heartbeat(&hb("a", 1, 1), t0 + ms(50), WALL).unwrap();
    t.on_heartbeat(&hb("b", 1, 1), t0 + ms(20), WALL).unwrap();
    assert_eq!(t.next_deadline(), Some(t0 + ms(320)));
    assert_eq!(t.tick(t0 + ms(320)), vec![dead("b")]);
    assert_eq!(t.next_deadline(), Some(t0 + ms(350)), "a's death and the isolation deadline coincide");
    assert_eq!(t.tick(t0 + ms(350)), vec![dead("a"), Change::Healthy(false)]);
    assert_eq!(t.next_deadline(), None, "nothing left to time out");
}

#[test]
fn replays_of_the_current_boot_are_refused_and_do_not_refresh() {
    let t0 = Instant::now();
    let mut t = table(t0, &["a", "b"]);
    t.on_heartbeat(&hb("a", 7, 5), t0, WALL).unwrap();
    for seq in [5, 4, 0] {
        assert_eq!(t.on_heartbeat(&hb("a", 7, seq), t0 + ms(200), WALL), Err(Rejection::Replay { node: "a".into() }));
    }
    assert_eq!(t.tick(t0 + ms(300)), vec![dead("a"), Change::Healthy(false)], "refused beats do not keep a alive");
    assert_eq!(
        t.on_heartbeat(&hb("a", 7, 5), t0 + ms(400), WALL),
        Err(Rejection::Replay { node: "a".into() }),
        "a recorded datagram cannot revive a dead member"
    );
    assert_eq!(t.alive(), set(&["me"]));
}

#[test]
fn a_new_boot_is_accepted_when_fresh_and_newer_and_its_sequence_starts_over() {
    let t0 = Instant::now();
    let mut t = table(t0, &["a", "b"]);
    t.on_heartbeat(&hb("a", 1, 900), t0, WALL).unwrap();
    t.tick(t0 + ms(300));
    let reborn = Heartbeat { sent_at_ms: WALL + 2_000, ..hb("a", 2, 1) };
    assert_eq!(t.on_heartbeat(&reborn, t0 + ms(2000), WALL + 2_000), Ok(vec![alive("a"), Change::Healthy(true)]));
    let next = Heartbeat { sent_at_ms: WALL + 2_100, ..hb("a", 2, 2) };
    assert_eq!(t.on_heartbeat(&next, t0 + ms(2100), WALL + 2_100), Ok(vec![]));
    // A datagram of the old boot, still within the freshness window, is older than the new boot's.
    assert_eq!(
        t.on_heartbeat(&hb("a", 1, 901), t0 + ms(2200), WALL + 2_200),
        Err(Rejection::Replay { node: "a".into() })
    );
}

#[test]
fn heartbeats_outside_the_freshness_window_are_stale_whatever_their_boot() {
    let t0 = Instant::now();
    let mut t = table(t0, &["a", "b"]);
    let cases = [(WALL - 5_001, 5_001), (WALL + 5_001, 5_001), (0, WALL)];
    for (sent_at_ms, skew_ms) in cases {
        let beat = Heartbeat { sent_at_ms, ..hb("a", 1, 1) };
        assert_eq!(t.on_heartbeat(&beat, t0, WALL), Err(Rejection::Stale { node: "a".into(), skew_ms }));
    }
    let edge = Heartbeat { sent_at_ms: WALL - 5_000, ..hb("a", 1, 1) };
    assert_eq!(t.on_heartbeat(&edge, t0, WALL), Ok(vec![alive("a")]), "exactly the window is accepted");
    let late = Heartbeat { sent_at_ms: WALL - 6_000, ..hb("a", 1, 2) };
    assert!(matches!(t.on_heartbeat(&late, t0, WALL), Err(Rejection::Stale { .. })), "same boot is checked too");
}

#[test]
fn unknown_senders_and_our_own_name_are_refused() {
    let t0 = Instant::now();
    let mut t = table(t0, &["a", "b", "me"]);
    assert!(!t.is_member("me"));
    for node in ["stranger", "me"] {
        assert_eq!(t.on_heartbeat(&hb(node, 1, 1), t0, WALL), Err(Rejection::UnknownSender { node: node.into() }));
    }
    assert_eq!(t.alive(), set(&["me"]));
}

#[test]
fn stepping_down_members_leave_the_alive_set_but_count_as_heard() {
    let t0 = Instant::now();
    let mut t = table(t0, &["a", "b"]);
    t.on_heartbeat(&hb("a", 1, 1), t0, WALL).unwrap();
    let down = Heartbeat { standing: Standing::SteppingDown, ..hb("a", 1, 2) };
    assert_eq!(t.on_heartbeat(&down, t0 + ms(100), WALL), Ok(vec![Change::SteppedDown("a".into())]));
    assert_eq!(t.alive(), set(&["me"]));
    assert_eq!(t.tick(t0 + ms(399)), vec![], "a is still heard, so this node is not isolated");
    assert_eq!(t.on_heartbeat(&hb("a", 1, 3), t0 + ms(399), WALL), Ok(vec![alive("a")]));
    let down_again = Heartbeat { standing: Standing::SteppingDown, ..hb("a", 1, 4) };
    t.on_heartbeat(&down_again, t0 + ms(450), WALL).unwrap();
    assert_eq!(t.tick(t0 + ms(750)), vec![dead("a"), Change::Healthy(false)], "silence after stepping down");
}

#[test]
fn a_member_first_heard_while_stepping_down_never_enters_the_alive_set() {
    let t0 = Instant::now();
    let mut t = table(t0, &["a", "b"]);
    let down = Heartbeat { standing: Standing::SteppingDown, ..hb("a", 1, 1) };
    assert_eq!(t.on_heartbeat(&down, t0, WALL), Ok(vec![]));
    assert_eq!(t.alive(), set(&["me"]));
}

#[test]
fn member_list_changes_remove_add_and_keep_state() {
    let t0 = Instant::now();
    let mut t = table(t0, &["a", "b", "c"]);
    t.on_heartbeat(&hb("a", 1, 1), t0, WALL).unwrap();
    t.on_heartbeat(&hb("b", 1, 1), t0, WALL).unwrap();
    assert_eq!(t.set_members(["a", "c", "d"], t0 + ms(50)), vec![Change::Removed("b".into())]);
    assert_eq!(t.alive(), set(&["me", "a"]), "a keeps its state");
    assert_eq!(t.members().collect::<Vec<_>>(), vec!["a", "c", "d"]);
    assert_eq!(t.on_heartbeat(&hb("b", 1, 2), t0 + ms(60), WALL), Err(Rejection::UnknownSender { node: "b".into() }));
    assert_eq!(t.set_members(["a", "b", "c"], t0 + ms(70)), vec![]);
    assert_eq!(t.alive(), set(&["me", "a"]), "a re-added member is unheard until it speaks");
    assert_eq!(t.on_heartbeat(&hb("b", 1, 1), t0 + ms(80), WALL), Ok(vec![alive("b")]), "its history was forgotten");
    assert_eq!(t.set_members(["c"], t0 + ms(90)), vec![Change::Removed("a".into()), Change::Removed("b".into())]);
}

#[test]
fn hearing_nobody_isolates_this_node_only_with_two_or_more_other_members() {
    let t0 = Instant::now();
    let mut two = table(t0, &["a", "b"]);
    assert!(two.healthy());
    assert_eq!(two.tick(t0 + ms(299)), vec![]);
    assert_eq!(two.tick(t0 + ms(300)), vec![Change::Healthy(false)], "startup grace is suspect_after");
    assert!(!two.healthy());
    assert_eq!(two.on_heartbeat(&hb("b", 1, 1), t0 + ms(500), WALL), Ok(vec![alive("b"), Change::Healthy(true)]));

    // With one other member, silence cannot tell its death from our isolation: stay healthy.
    let mut one = table(t0, &["a"]);
    one.on_heartbeat(&hb("a", 1, 1), t0, WALL).unwrap();
    assert_eq!(one.tick(t0 + ms(10_000)), vec![dead("a")]);
    assert!(one.healthy());
    assert_eq!(one.next_deadline(), None);

    let mut alone = table(t0, &[]);
    assert_eq!(alone.tick(t0 + ms(10_000)), vec![]);
    assert!(alone.healthy());
}

#[test]
fn growing_to_two_members_starts_the_silence_clock_then_shrinking_heals() {
    let t0 = Instant::now();
    let mut t = table(t0, &["a"]);
    assert_eq!(t.set_members(["a", "b"], t0 + ms(5_000)), vec![], "not isolated for silence before it could hear");
    assert_eq!(t.tick(t0 + ms(5_299)), vec![]);
    assert_eq!(t.tick(t0 + ms(5_300)), vec![Change::Healthy(false)]);
    assert_eq!(t.set_members(["a"], t0 + ms(5_400)), vec![Change::Healthy(true)]);
}

#[test]
fn link_down_makes_this_node_unhealthy_whatever_it_hears() {
    let t0 = Instant::now();
    let mut t = table(t0, &["a"]);
    t.on_heartbeat(&hb("a", 1, 1), t0, WALL).unwrap();
    assert_eq!(t.set_link_up(false, t0 + ms(1)), vec![Change::Healthy(false)]);
    assert_eq!(t.on_heartbeat(&hb("a", 1, 2), t0 + ms(2), WALL), Ok(vec![]), "still heard, still unhealthy");
    assert!(!t.healthy());
    assert_eq!(t.set_link_up(false, t0 + ms(3)), vec![]);
    assert_eq!(t.set_link_up(true, t0 + ms(4)), vec![Change::Healthy(true)]);
}

#[test]
fn a_clock_going_backwards_is_harmless() {
    let t0 = Instant::now() + ms(1_000);
    let mut t = table(t0, &["a", "b"]);
    t.on_heartbeat(&hb("a", 1, 1), t0, WALL).unwrap();
    assert_eq!(t.tick(t0 - ms(500)), vec![]);
    assert_eq!(t.alive(), set(&["me", "a"]));
}

#[test]
fn a_leaving_member_leaves_the_alive_set_at_once_and_its_silence_is_a_departure_not_a_failure() {
    let t0 = Instant::now();
    let mut t = table(t0, &["a", "b"]);
    t.on_heartbeat(&hb("a", 1, 1), t0, WALL).unwrap();
    t.on_heartbeat(&hb("b", 1, 1), t0, WALL).unwrap();
    let leaving = Heartbeat { standing: Standing::Leaving, ..hb("a", 1, 2) };
    assert_eq!(t.on_heartbeat(&leaving, t0 + ms(10), WALL), Ok(vec![Change::Leaving("a".into())]));
    assert_eq!(t.alive(), set(&["me", "b"]), "re-ranked without a on the first leaving heartbeat");
    // Still heard while it hands over; then it stops.
    let again = Heartbeat { standing: Standing::Leaving, ..hb("a", 1, 3) };
    assert_eq!(t.on_heartbeat(&again, t0 + ms(100), WALL), Ok(vec![]));
    t.on_heartbeat(&hb("b", 1, 2), t0 + ms(300), WALL).unwrap();
    assert_eq!(t.tick(t0 + ms(400)), vec![Change::Departed("a".into())]);
    assert!(t.healthy());
}

#[test]
fn a_member_that_is_no_longer_leaving_is_alive_again() {
    let t0 = Instant::now();
    let mut t = table(t0, &["a", "b"]);
    t.on_heartbeat(&hb("a", 1, 1), t0, WALL).unwrap();
    let leaving = Heartbeat { standing: Standing::Leaving, ..hb("a", 1, 2) };
    t.on_heartbeat(&leaving, t0 + ms(10), WALL).unwrap();
    assert_eq!(t.on_heartbeat(&hb("a", 1, 3), t0 + ms(20), WALL), Ok(vec![alive("a")]));
    assert_eq!(t.alive(), set(&["me", "a"]));
    // Stepping down (isolated) then leaving: both keep it out; the change is still reported.
    let down = Heartbeat { standing: Standing::SteppingDown, ..hb("a", 1, 4) };
    assert_eq!(t.on_heartbeat(&down, t0 + ms(30), WALL), Ok(vec![Change::SteppedDown("a".into())]));
    let leaving = Heartbeat { standing: Standing::Leaving, ..hb("a", 1, 5) };
    assert_eq!(t.on_heartbeat(&leaving, t0 + ms(40), WALL), Ok(vec![Change::Leaving("a".into())]));
}

/// A table whose members may stay silent for 5 s after announcing a restart.
fn restart_table(t0: Instant, members: &[&str]) -> Table {
    let config = TableConfig { restart_window: Duration::from_secs(5), ..TableConfig::default() };
    let mut table = Table::new("me", config, t0);
    assert_eq!(table.set_members(members.iter().copied(), t0), vec![]);
    table
}

#[test]
fn a_restarting_member_stays_alive_for_the_restart_window_and_its_next_boot_takes_over() {
    let t0 = Instant::now();
    let mut t = restart_table(t0, &["a", "b", "c"]);
    for n in ["a", "b", "c"] {
        t.on_heartbeat(&hb(n, 1, 1), t0, WALL).unwrap();
    }
    let restarting = Heartbeat { standing: Standing::Restarting, ..hb("a", 1, 2) };
    assert_eq!(t.on_heartbeat(&restarting, t0 + ms(50), WALL), Ok(vec![Change::Restarting("a".into())]));
    assert_eq!(t.alive(), set(&["me", "a", "b", "c"]), "still an owner");
    // b and c keep speaking; a is silent for far longer than suspect_after.
    for i in 1..=20 {
        let now = t0 + ms(100 * i);
        t.on_heartbeat(&hb("b", 1, 1 + i), now, WALL).unwrap();
        t.on_heartbeat(&hb("c", 1, 1 + i), now, WALL).unwrap();
        assert_eq!(t.tick(now), vec![], "at {i}00 ms");
    }
    assert_eq!(t.alive(), set(&["me", "a", "b", "c"]));
    // Its next process speaks: a plain member again, with a fresh boot.
    let next = Heartbeat { sent_at_ms: WALL + 2_500, ..hb("a", 2, 1) };
    assert_eq!(t.on_heartbeat(&next, t0 + ms(2_500), WALL + 2_500), Ok(vec![alive("a")]));
    assert_eq!(t.next_deadline(), Some(t0 + ms(2_300)), "b's and c's ordinary deadlines come first");
}

#[test]
fn a_restarting_member_that_does_not_come_back_in_the_window_is_dead() {
    let t0 = Instant::now();
    let mut t = restart_table(t0, &["a", "b"]);
    t.on_heartbeat(&hb("b", 1, 1), t0, WALL).unwrap();
    t.on_heartbeat(&Heartbeat { standing: Standing::Restarting, ..hb("a", 1, 1) }, t0, WALL).unwrap();
    assert!(t.next_deadline().is_some_and(|d| d <= t0 + Duration::from_secs(5)));
    let mut now = t0;
    while now < t0 + Duration::from_secs(5) {
        now += ms(100);
        t.on_heartbeat(&hb("b", 1, 1 + (now - t0).as_millis() as u64), now, WALL).unwrap();
        if now < t0 + Duration::from_secs(5) {
            assert_eq!(t.tick(now), vec![], "{:?}", now - t0);
        }
    }
    assert_eq!(t.tick(t0 + Duration::from_secs(5)), vec![dead("a")]);
    assert_eq!(t.alive(), set(&["me", "b"]));
}

#[test]
fn a_restarting_member_does_not_count_towards_isolation() {
    // Members a and b; a restarts. Hearing b alone is not "hearing nobody of two": when b falls
    // silent too, this node cannot tell b's death from being cut off, and stays healthy.
    let t0 = Instant::now();
    let mut t = restart_table(t0, &["a", "b"]);
    t.on_heartbeat(&hb("b", 1, 1), t0, WALL).unwrap();
    t.on_heartbeat(&Heartbeat { standing: Standing::Restarting, ..hb("a", 1, 1) }, t0, WALL).unwrap();
    assert_eq!(t.tick(t0 + ms(300)), vec![dead("b")], "b is dead, and this node is not isolated");
    assert!(t.healthy());
}

/// A heartbeat from `node` carrying a report in which it holds (or not) every member alive, built
/// against `roster` (sorted, this node included).
fn reporting(node: &str, seq: u64, roster: &[&str], held_me: bool) -> Heartbeat {
    use crate::members::wire::{Entry, Report, roster_digest};
    let entries = roster
        .iter()
        .map(|name| if *name == "me" { Entry::new(None, false, held_me) } else { Entry::new(Some(ms(0)), true, true) })
        .collect();
    Heartbeat { report: Some(Report { roster: roster_digest(roster.iter().copied()), entries }), ..hb(node, 1, seq) }
}

#[test]
fn a_node_that_every_member_it_hears_reports_unheard_steps_down_until_one_hears_it() {
    let t0 = Instant::now();
    let roster = ["a", "b", "me"];
    let mut t = table(t0, &["a", "b"]);
    // Reports count only once their sender's boot was heard for suspect_after.
    t.on_heartbeat(&reporting("a", 1, &roster, false), t0 + ms(10), WALL).unwrap();
    t.on_heartbeat(&reporting("b", 1, &roster, false), t0 + ms(10), WALL).unwrap();
    assert!(t.healthy(), "too early to judge");
    assert_eq!(t.on_heartbeat(&reporting("a", 2, &roster, false), t0 + ms(309), WALL), Ok(vec![]));
    assert_eq!(
        t.on_heartbeat(&reporting("a", 3, &roster, false), t0 + ms(310), WALL),
        Ok(vec![Change::Healthy(false)])
    );
    assert!(t.unheard());
    assert_eq!(t.alive(), set(&["me", "a", "b"]), "the others stay alive here");
    // One member hears us again: healthy.
    assert_eq!(t.on_heartbeat(&reporting("a", 4, &roster, true), t0 + ms(410), WALL), Ok(vec![Change::Healthy(true)]));
    assert!(!t.unheard());
}

#[test]
fn members_without_a_report_for_our_roster_count_as_hearing_us() {
    let t0 = Instant::now();
    let mut t = table(t0, &["a", "b"]);
    let other_roster = ["a", "b", "c", "me"];
    for at in [10, 320] {
        t.on_heartbeat(&reporting("a", at, &other_roster, false), t0 + ms(at), WALL).unwrap();
        // An older speaker: version 1, no report.
        t.on_heartbeat(&hb("b", 1, at), t0 + ms(at), WALL).unwrap();
    }
    assert!(t.healthy() && !t.unheard());
    // Once a's report indexes our roster, b's silence on the matter still counts as hearing us.
    t.on_heartbeat(&reporting("a", 400, &["a", "b", "me"], false), t0 + ms(400), WALL).unwrap();
    assert!(t.healthy());
}

#[test]
fn a_member_not_heard_here_but_held_alive_by_a_member_heard_is_vouched_for_and_dies_with_the_news() {
    let t0 = Instant::now();
    let roster = ["a", "b", "me"];
    let mut t = table(t0, &["a", "b"]);
    let changes = t.on_heartbeat(&reporting("a", 1, &roster, true), t0 + ms(10), WALL).unwrap();
    assert_eq!(changes, vec![alive("a"), Change::Vouched("b".into())]);
    assert_eq!(t.alive(), set(&["me", "a", "b"]));
    assert_eq!(t.next_deadline(), Some(t0 + ms(310)), "the news of b is as fresh as a's heartbeat");
    // News aging in a's reports: b stays vouched until its news is twice suspect_after old.
    let aged = |seq: u64, age: u64| {
        let mut beat = reporting("a", seq, &roster, true);
        if let Some(report) = beat.report.as_mut() {
            report.entries[1] = crate::members::wire::Entry::new(Some(ms(age)), true, true);
        }
        beat
    };
    t.on_heartbeat(&aged(2, 500), t0 + ms(110), WALL).unwrap();
    assert!(t.alive().contains("b"), "400 ms old news keeps a member already vouched for");
    assert_eq!(t.tick(t0 + ms(210)), vec![Change::Unvouched("b".into())], "news 600 ms old ends it");
    assert_eq!(t.on_heartbeat(&aged(3, 400), t0 + ms(220), WALL), Ok(vec![]), "news 400 ms old does not bring it back");
    assert_eq!(t.on_heartbeat(&aged(4, 100), t0 + ms(230), WALL), Ok(vec![Change::Vouched("b".into())]));
    // The voucher's next heartbeat carries no report (an older speaker): it vouches for nobody.
    let plain = Heartbeat { report: None, ..hb("a", 1, 5) };
    assert_eq!(t.on_heartbeat(&plain, t0 + ms(240), WALL), Ok(vec![Change::Unvouched("b".into())]));
}

#[test]
fn reports_carry_every_roster_member_and_versions_follow_what_members_read() {
    let t0 = Instant::now();
    let mut t = table(t0, &["a", "b"]);
    assert!(t.reads_reports("a") && t.reads_reports("b"), "members never heard get version 2");
    t.on_heartbeat(&Heartbeat { reads_reports: false, ..hb("a", 1, 1) }, t0 + ms(10), WALL).unwrap();
    assert!(!t.reads_reports("a"), "an older speaker gets version 1");
    let report = t.report(t0 + ms(50));
    assert_eq!(report.roster, crate::members::wire::roster_digest(["a", "b", "me"]));
    let ages: Vec<_> = report.entries.iter().map(|e| (e.age(), e.alive, e.held)).collect();
    assert_eq!(ages, vec![(Some(ms(60)), true, true), (None, false, false), (Some(ms(0)), true, true)]);
}

#[test]
fn members_heard_stepping_down_or_leaving_are_heard_but_not_alive_until_silence_ends_them() {
    let t0 = Instant::now();
    let mut t = table(t0, &["a", "b", "c"]);
    assert_eq!(t.heard(), set(&["me"]), "nobody heard yet");
    t.on_heartbeat(&hb("a", 1, 1), t0 + ms(10), WALL).unwrap();
    t.on_heartbeat(&Heartbeat { standing: Standing::SteppingDown, ..hb("b", 1, 1) }, t0 + ms(10), WALL).unwrap();
    t.on_heartbeat(&Heartbeat { standing: Standing::Leaving, ..hb("c", 1, 1) }, t0 + ms(10), WALL).unwrap();
    assert_eq!(t.alive(), set(&["me", "a"]));
    assert_eq!(t.heard(), set(&["me", "a", "b", "c"]), "running speakers, whatever their standing");
    t.tick(t0 + ms(2000));
    assert_eq!(t.heard(), set(&["me"]), "silence ends it");
}
