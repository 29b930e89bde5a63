//! Every data reader on small fixtures written by the tests themselves (no ../shared needed).

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use tanp::data::gowalla::{Subset, from_lists};
use tanp::data::split::{SplitConfig, SupportOrder, make_episodes};
use tanp::data::{lastfm, movielens};
use tanp::error::TanpError;

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tanp-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn crlf(lines: &[&str]) -> String {
    lines.iter().map(|l| format!("{l}\r\n")).collect()
}

fn movielens_fixture(name: &str) -> PathBuf {
    let d = dir(name);
    let m = d.join("melu");
    write(
        &m.join("m_rate.txt"),
        &crlf(&["PG-13", "UNRATED", "G", "R"]),
    );
    write(&m.join("m_genre.txt"), &crlf(&["Comedy", "Drama", "nan"]));
    write(
        &m.join("m_director.txt"),
        &crlf(&["Jane Roe", "Gary Goldman", "nan"]),
    );
    write(&m.join("m_actor.txt"), &crlf(&["A One", "B Two", "nan"]));
    write(&m.join("m_gender.txt"), "M\r\nF");
    write(&m.join("m_age.txt"), &crlf(&["1", "18", "25"]));
    write(&m.join("m_occupation.txt"), &crlf(&["0", "1", "2"]));
    write(&m.join("m_zipcode.txt"), &crlf(&["12345", "55117"]));
    write(
        &m.join("movies_extrainfos.dat"),
        &crlf(&[
            "1::Toy Story::1995::G::x::Comedy, Drama::Jane Roe, Gary Goldman(co-director)::w::A One, B Two::plot::url",
            "2::Lost Film::N/A::N/A::x::N/A::N/A::w::N/A::plot::url",
            "3::Unrated::1990::R::x::Drama::Jane Roe::w::B Two::plot::url",
        ]),
    );
    write(
        &d.join("users.dat"),
        "1::F::1::2::12345-678\n2::M::25::0::55117\n",
    );
    write(
        &d.join("ratings_melu_no_timestamp.dat"),
        "1::1::5\n1::2::3\n2::2::1\n2::1::4\n2::1::4\n",
    );
    d
}

#[test]
fn movielens_reads_side_information_with_melu_quirks() {
    let d = movielens_fixture("ml");
    let data = movielens::load(&d).unwrap();
    // Movie 3 has no rating: the catalog is movies 1 and 2.
    assert_eq!(data.catalog.len(), 2);
    assert_eq!(data.catalog[0].title, "Toy Story");
    assert_eq!(data.catalog[0].year, Some(1995));
    assert_eq!(data.catalog[0].genres, vec!["Comedy", "Drama"]);
    assert_eq!(data.catalog[1].year, None);
    let field = |name: &str| data.items.fields.iter().find(|f| f.name == name).unwrap();
    // Parenthetical removed: both directors found (index = line + 1).
    assert_eq!(field("director").get(0), &[1, 2]);
    // N/A is the "nan" token of each list.
    assert_eq!(field("genre").get(1), &[3]);
    assert_eq!(field("actor").get(1), &[3]);
    assert_eq!(field("director").get(1), &[3]);
    // Unknown year is index 0; years 1990, 1995 are 1, 2.
    assert_eq!(field("year").get(0), &[2]);
    assert_eq!(field("year").get(1), &[0]);
    assert_eq!(field("rate").get(0), &[3]);
    // Users: gender F = 2, zip prefix of a long zip code.
    assert_eq!(data.users.fields[0].get(0), &[2]);
    assert_eq!(data.users.fields[3].get(0), &[1]);
    // A visitor's choices are named by the MovieLens README's labels, index i + 1 = labels[i].
    let labels: Vec<(&str, Vec<&str>)> = data
        .profile_fields
        .iter()
        .map(|f| {
            (
                f.name.as_str(),
                f.labels.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    assert_eq!(
        labels,
        vec![
            ("gender", vec!["male", "female"]),
            ("age", vec!["under 18", "18-24", "25-34"]),
            (
                "occupation",
                vec!["other or not specified", "academic/educator", "artist"]
            ),
            ("zip", vec!["12345", "55117"]),
        ]
    );
    assert_eq!(
        data.profile_fields.len(),
        data.users.fields.len(),
        "one profile field per user field"
    );
    // Ratings, with the duplicate (user, movie) pair kept once.
    assert_eq!(data.histories[0].len(), 2);
    assert_eq!(data.histories[1].len(), 2);
    assert_eq!(data.histories[0][0].y, 5.0);
    assert_eq!(data.interactions(), 4);
}

#[test]
fn movielens_errors_name_file_line_and_expectation() {
    let d = movielens_fixture("ml-bad");
    write(
        &d.join("ratings_melu_no_timestamp.dat"),
        "1::1::5\n1::2::7\n",
    );
    let e = movielens::load(&d).unwrap_err().to_string();
    assert!(
        e.contains("ratings_melu_no_timestamp.dat:2") && e.contains("rating 1-5"),
        "{e}"
    );
    write(&d.join("ratings_melu_no_timestamp.dat"), "1::1\n");
    let e = movielens::load(&d).unwrap_err().to_string();
    assert!(e.contains(":1") && e.contains("3 fields"), "{e}");
    write(&d.join("ratings_melu_no_timestamp.dat"), "1::99::4\n");
    let e = movielens::load(&d).unwrap_err().to_string();
    assert!(e.contains("movies_extrainfos.dat"), "{e}");
    let d2 = movielens_fixture("ml-bad2");
    write(&d2.join("users.dat"), "1::X::1::2::12345\n");
    assert!(matches!(
        movielens::load(&d2),
        Err(TanpError::Parse { line: 1, .. })
    ));
    let missing = movielens::load(Path::new("/nonexistent/ml-1m"))
        .unwrap_err()
        .to_string();
    assert!(
        missing.contains("/nonexistent/ml-1m/melu/m_rate.txt"),
        "{missing}"
    );
}

#[test]
fn lastfm_reads_ratings_and_episodes() {
    let d = dir("lfm");
    let t = d.join("tanp_lastfm_20");
    write(
        &t.join("ratings_final.txt"),
        "0\t2\t1\n0\t1\t0\n1\t0\t1\n1\t3\t0\n",
    );
    write(
        &t.join("episodes.tsv"),
        "split\ttask\tset\tpos\tuser\titem\tlabel\n\
         training\t0\tsupport\t1\t0\t1\t0\n\
         training\t0\tsupport\t0\t0\t2\t1\n\
         training\t0\tquery\t0\t0\t3\t0\n\
         testing\t0\tsupport\t0\t1\t0\t1\n\
         testing\t0\tquery\t0\t1\t3\t0\n",
    );
    let data = lastfm::load(&d).unwrap();
    assert_eq!((data.users.len(), data.items.len()), (2, 4));
    let e = data.episodes.unwrap();
    assert_eq!((e.train.len(), e.valid.len(), e.test.len()), (1, 0, 1));
    // Positions order the support set.
    assert_eq!(
        e.train[0]
            .support
            .iter()
            .map(|x| x.item)
            .collect::<Vec<_>>(),
        vec![2, 1]
    );
    assert_eq!(e.test[0].query[0].item, 3);

    write(
        &t.join("episodes.tsv"),
        "split\ttask\tset\tpos\tuser\titem\tlabel\ntraining\t0\tsupport\t0\t0\t9\t1\n",
    );
    let err = lastfm::load(&d).unwrap_err().to_string();
    assert!(
        err.contains("episodes.tsv:2") && err.contains("item < 4"),
        "{err}"
    );
    write(&t.join("ratings_final.txt"), "0\t2\t2\n");
    let err = lastfm::load(&d).unwrap_err().to_string();
    assert!(
        err.contains("ratings_final.txt:1") && err.contains("label 0 or 1"),
        "{err}"
    );
    // An id far beyond the file's length would allocate billions of histories: refused.
    write(&t.join("ratings_final.txt"), "0\t2\t1\n4294967295\t1\t0\n");
    let err = lastfm::load(&d).unwrap_err().to_string();
    assert!(
        err.contains("ratings_final.txt:2") && err.contains("dense user and item ids"),
        "{err}"
    );
    // Bytes that are not UTF-8: the file and the line.
    std::fs::write(t.join("ratings_final.txt"), b"0\t2\t1\n1\t\xff\xfe\t0\n").unwrap();
    let err = lastfm::load(&d).unwrap_err().to_string();
    assert!(
        err.contains("ratings_final.txt:2") && err.contains("UTF-8") && err.contains("0xff"),
        "{err}"
    );
}

/// `tanp bench --runs 0` is refused by the argument parser, not a panic.
#[test]
fn bench_refuses_zero_runs() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tanp"))
        .args(["bench", "--runs", "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "a usage error");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--runs") && err.contains("0"), "{err}");
}

#[test]
fn gowalla_subset_adds_one_negative_per_positive() {
    let mut lists: HashMap<u32, BTreeSet<u32>> = HashMap::new();
    lists.insert(0, (0..4).collect());
    lists.insert(1, (10..14).collect());
    lists.insert(2, (20..24).collect());
    lists.insert(3, [20].into_iter().collect()); // too short
    let subset = Subset {
        min_positives: 3,
        max_positives: 4,
        users: 2,
        seed: 1,
    };
    let data = from_lists(lists.clone(), &subset, serde_json::Value::Null).unwrap();
    assert_eq!(data.users.len(), 2);
    for h in &data.histories {
        let pos: BTreeSet<u32> = h.iter().filter(|x| x.y == 1.0).map(|x| x.item).collect();
        let neg: BTreeSet<u32> = h.iter().filter(|x| x.y == 0.0).map(|x| x.item).collect();
        assert_eq!(pos.len(), neg.len());
        assert!(pos.is_disjoint(&neg));
        assert!(h.iter().all(|x| (x.item as usize) < data.items.len()));
    }
    let too_many = Subset { users: 5, ..subset };
    assert!(from_lists(lists, &too_many, serde_json::Value::Null).is_err());

    let d = dir("gowalla");
    write(&d.join("ngcf/train_reconstructed.txt"), "0 1 2\n1 2 x\n");
    write(&d.join("ngcf/test.txt"), "0 3\n");
    let err = tanp::data::gowalla::load(&d, &Subset::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("train_reconstructed.txt:2") && err.contains("item id"),
        "{err}"
    );
}

/// `users` synthetic histories, user `u` with `len(u)` interactions alternating over the two
/// fixture items, rated 1..=5 in turn by position.
fn histories(users: usize, len: impl Fn(usize) -> usize) -> Vec<Vec<tanp::task::Interaction>> {
    (0..users)
        .map(|u| {
            (0..len(u))
                .map(|j| tanp::task::Interaction {
                    item: (j % 2) as u32,
                    y: (1 + j % 5) as f32,
                })
                .collect()
        })
        .collect()
}

#[test]
fn split_is_seeded_filters_lengths_and_draws_the_support() {
    let d = movielens_fixture("ml-split");
    let mut data = movielens::load(&d).unwrap();
    // 50 synthetic users with 5..=14 interactions over the two items.
    data.histories = histories(50, |u| 5 + u % 10);
    let cfg = SplitConfig {
        min_len: 8,
        max_len: 12,
        n_s: 3,
        ..SplitConfig::default()
    };
    let a = make_episodes(&data, &cfg).unwrap();
    let b = make_episodes(&data, &cfg).unwrap();
    assert_eq!(a.train, b.train);
    assert!(!a.train.is_empty() && !a.test.is_empty());
    let all: Vec<_> = a.train.iter().chain(&a.valid).chain(&a.test).collect();
    assert!(
        all.iter()
            .all(|t| t.support.len() == 3 && (8..=12).contains(&t.len()))
    );
    let users: BTreeSet<u32> = all.iter().map(|t| t.user).collect();
    assert_eq!(users.len(), all.len(), "a user is in one split only");
    let other = make_episodes(
        &data,
        &SplitConfig {
            seed: 7,
            ..cfg.clone()
        },
    )
    .unwrap();
    assert_ne!(a.train, other.train);
    assert!(make_episodes(&data, &SplitConfig { n_s: 8, ..cfg }).is_err());
}

#[test]
fn the_audit_protocols_take_the_file_order_support_and_cap_the_query() {
    let d = movielens_fixture("ml-audit");
    let mut data = movielens::load(&d).unwrap();
    // 40 users with 12 interactions each.
    data.histories = histories(40, |_| 12);
    let base = SplitConfig {
        min_len: 8,
        max_len: 12,
        n_s: 4,
        ..SplitConfig::default()
    };
    let file = make_episodes(
        &data,
        &SplitConfig {
            support_order: SupportOrder::File,
            ..base.clone()
        },
    )
    .unwrap();
    for t in &file.train {
        let history = &data.histories[t.user as usize];
        assert_eq!(t.support, history[..4], "the first N_S in file order");
        assert_eq!(t.query, history[4..], "the rest, in file order");
    }
    let capped = make_episodes(
        &data,
        &SplitConfig {
            query_size: Some(5),
            ..base.clone()
        },
    )
    .unwrap();
    assert!(
        capped
            .train
            .iter()
            .all(|t| t.support.len() == 4 && t.query.len() == 5)
    );
    // A cap above the query's length changes nothing.
    let loose = make_episodes(
        &data,
        &SplitConfig {
            query_size: Some(100),
            ..base.clone()
        },
    )
    .unwrap();
    let plain = make_episodes(&data, &base).unwrap();
    assert_eq!(
        (loose.train, loose.valid, loose.test),
        (plain.train, plain.valid, plain.test)
    );
}
