//! Your own data (src/data/generic.rs): CSV and TSV interactions, items and users files, what
//! is counted, and errors that name the file and line.

use std::path::{Path, PathBuf};

use tanp::config::Feedback;
use tanp::data::generic::{Columns, Source, load};

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tanp-own-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn source(interactions: PathBuf) -> Source {
    Source {
        interactions,
        items: None,
        users: None,
        columns: Columns::default(),
    }
}

#[test]
fn explicit_ratings_in_time_order_with_repeats_merged_and_a_scale_mapped_onto_1_to_5() {
    let d = dir("explicit");
    let csv = "userId,movieId,rating,timestamp\n\
               u1,a,10,300\n\
               u1,b,0,100\n\
               u2,a,5,50\n\
               u1,a,8,400\n\
               \n\
               u2,\"c, the film\",2.5,60\n";
    let (data, report) = load(&source(write(&d, "ratings.csv", csv))).unwrap();
    assert_eq!(data.feedback, Feedback::Explicit);
    assert_eq!(
        (report.rows, report.interactions, report.duplicates),
        (5, 4, 1)
    );
    assert_eq!((report.users, report.items), (2, 3));
    assert_eq!(report.rating_range, Some([0.0, 10.0]));
    assert!(report.rescaled);
    assert_eq!(data.user_ids, ["u1", "u2"]);
    // u1 in time order: b at 100, then a (its later rating, 8 of 10, kept).
    let u1: Vec<(u32, f32)> = data.histories[0].iter().map(|x| (x.item, x.y)).collect();
    assert_eq!(u1, [(1, 1.0), (0, 1.0 + 4.0 * 0.8)]);
    assert_eq!(data.catalog[2].id, "c, the film");
    assert!(
        report
            .describe()
            .contains("1 repeated user-item pairs merged")
    );
}

#[test]
fn implicit_feedback_from_a_tsv_gets_one_negative_per_positive() {
    let d = dir("implicit");
    let tsv = "customer\tsku\n1\tx\n1\ty\n2\tz\n2\tx\n3\tw\n";
    let mut s = source(write(&d, "clicks.tsv", tsv));
    s.columns = "user=customer,item=sku".parse().unwrap();
    let (data, report) = load(&s).unwrap();
    assert_eq!(data.feedback, Feedback::Implicit);
    assert_eq!(report.negatives, 5);
    for h in &data.histories {
        let pos: Vec<u32> = h.iter().filter(|x| x.y == 1.0).map(|x| x.item).collect();
        let neg: Vec<u32> = h.iter().filter(|x| x.y == 0.0).map(|x| x.item).collect();
        assert_eq!(pos.len(), neg.len());
        assert!(neg.iter().all(|n| !pos.contains(n)), "{h:?}");
    }
}

#[test]
fn items_and_users_files_give_fields_titles_images_and_links() {
    let d = dir("items");
    let interactions = write(
        &d,
        "i.csv",
        "user,item,rating\n1,a,5\n1,b,4\n2,a,3\n2,zz,5\n",
    );
    let items = write(
        &d,
        "items.csv",
        "id,title,genres,brand,image_url,url\n\
         a,Alpha,Comedy|Drama,acme,https://example.com/a.jpg,https://example.com/a\n\
         b,Beta,Drama,,,\n\
         c,Gamma,,zeta,,\n",
    );
    let users = write(&d, "users.csv", "user_id,country\n1,FR\n2,DE\n9,IT\n");
    let mut s = source(interactions);
    s.items = Some(items);
    s.users = Some(users);
    let (data, report) = load(&s).unwrap();
    assert_eq!(report.unknown_items, 1);
    assert_eq!(report.items_without_interactions, 1); // c
    assert_eq!(report.users_without_interactions, 1); // 9
    assert_eq!(data.catalog.len(), 3);
    assert_eq!(data.catalog[0].title, "Alpha");
    assert_eq!(data.catalog[0].genres, ["Comedy", "Drama"]);
    assert_eq!(
        data.catalog[0].image.as_deref(),
        Some("https://example.com/a.jpg")
    );
    assert_eq!(
        data.catalog[0].link.as_deref(),
        Some("https://example.com/a")
    );
    assert_eq!(data.catalog[1].image, None);
    let names: Vec<&str> = data.items.fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["genres", "brand"]);
    // genres: unknown, Comedy, Drama; brand: unknown, acme, zeta.
    assert_eq!(data.items.fields[0].vocab, 3);
    assert_eq!(data.items.fields[1].vocab, 3);
    assert_eq!(data.profile_fields.len(), 1);
    // Only the users with interactions are the dataset's users.
    assert_eq!(data.profile_fields[0].labels, ["FR", "DE"]);
}

#[test]
fn bad_rows_name_the_file_the_line_and_what_was_expected() {
    let d = dir("bad");
    let cases = [
        (
            "user,item,rating\n1,a,5\n2,b,lots\n",
            "r.csv:3: expected a finite number",
        ),
        (
            "user,item,rating\n1,a,5\n,b,4\n",
            "r.csv:3: expected a user id",
        ),
        (
            "user,item,rating\n1,a,5\n2,b\n",
            "r.csv:3: expected a well-formed",
        ),
        ("who,what\n1,a\n", "no user column"),
        ("user,item,rating\n1,a,3\n2,b,3\n", "every rating is 3"),
    ];
    for (text, want) in cases {
        let path = write(&d, "r.csv", text);
        let err = load(&source(path)).unwrap_err().to_string();
        assert!(
            err.contains(want) && err.contains("r.csv"),
            "{text:?}: {err}"
        );
    }
    // The same file read as implicit feedback: the rating column named as none.
    let mut s = source(write(&d, "r.csv", "user,item,rating\n1,a,3\n2,b,3\n"));
    s.columns = "rating=".parse().unwrap();
    assert_eq!(load(&s).unwrap().0.feedback, Feedback::Implicit);
    let err = "user=a,shoe=b".parse::<Columns>().unwrap_err().to_string();
    assert!(err.contains("unknown role \"shoe\""), "{err}");
}

/// Writes a Parquet file with the parquet crate's low-level writer: `schema` in Parquet's
/// message syntax, then each column in order.
fn write_parquet(path: &Path, schema: &str, columns: Vec<Column>) {
    use parquet::file::properties::WriterProperties;
    use parquet::file::writer::SerializedFileWriter;
    use std::sync::Arc;
    let schema = Arc::new(parquet::schema::parser::parse_message_type(schema).unwrap());
    let props = WriterProperties::builder()
        .set_compression(parquet::basic::Compression::SNAPPY)
        .build();
    let file = std::fs::File::create(path).unwrap();
    let mut writer = SerializedFileWriter::new(file, schema, Arc::new(props)).unwrap();
    let mut group = writer.next_row_group().unwrap();
    let mut columns = columns.into_iter();
    while let Some(mut out) = group.next_column().unwrap() {
        match columns.next().unwrap() {
            Column::Text(values, def, rep) => {
                let values: Vec<parquet::data_type::ByteArray> =
                    values.iter().map(|v| (*v).into()).collect();
                out.typed::<parquet::data_type::ByteArrayType>()
                    .write_batch(&values, def.as_deref(), rep.as_deref())
                    .unwrap();
            }
            Column::Long(values) => {
                out.typed::<parquet::data_type::Int64Type>()
                    .write_batch(&values, None, None)
                    .unwrap();
            }
            Column::Double(values) => {
                out.typed::<parquet::data_type::DoubleType>()
                    .write_batch(&values, None, None)
                    .unwrap();
            }
        }
        out.close().unwrap();
    }
    group.close().unwrap();
    writer.close().unwrap();
}

/// One column's values (with definition and repetition levels for optional and list columns).
enum Column {
    Text(Vec<&'static str>, Option<Vec<i16>>, Option<Vec<i16>>),
    Long(Vec<i64>),
    Double(Vec<f64>),
}

#[test]
fn parquet_files_read_as_their_csv_twins_with_lists_as_multi_valued_fields() {
    let d = dir("parquet");
    let interactions = d.join("ratings.parquet");
    write_parquet(
        &interactions,
        "message ratings { REQUIRED BYTE_ARRAY user (UTF8); REQUIRED INT64 item; \
         REQUIRED DOUBLE rating; REQUIRED INT64 timestamp (TIMESTAMP(MILLIS,true)); }",
        vec![
            Column::Text(vec!["u1", "u1", "u2", "u1", "u2"], None, None),
            Column::Long(vec![10, 20, 10, 10, 30]),
            Column::Double(vec![10.0, 0.0, 5.0, 8.0, 2.5]),
            Column::Long(vec![300, 100, 50, 400, 60]),
        ],
    );
    let items = d.join("items.parquet");
    // genres: a list column ([Comedy, Drama], [Drama], null); brand: optional (null for 20).
    write_parquet(
        &items,
        "message items { REQUIRED INT64 id; REQUIRED BYTE_ARRAY title (UTF8); \
         OPTIONAL group genres (LIST) { REPEATED group list { OPTIONAL BYTE_ARRAY element (UTF8); } } \
         OPTIONAL BYTE_ARRAY brand (UTF8); }",
        vec![
            Column::Long(vec![10, 20, 30]),
            Column::Text(vec!["Alpha", "Beta", "Gamma"], None, None),
            Column::Text(
                vec!["Comedy", "Drama", "Drama"],
                Some(vec![3, 3, 3, 0]),
                Some(vec![0, 1, 0, 0]),
            ),
            Column::Text(vec!["acme", "zeta"], Some(vec![1, 0, 1]), None),
        ],
    );
    let csv_interactions = write(
        &d,
        "ratings.csv",
        "user,item,rating,timestamp\nu1,10,10,300\nu1,20,0,100\nu2,10,5,50\nu1,10,8,400\nu2,30,2.5,60\n",
    );
    let csv_items = write(
        &d,
        "items.csv",
        "id,title,genres,brand\n10,Alpha,Comedy|Drama,acme\n20,Beta,Drama,\n30,Gamma,,zeta\n",
    );
    let with_items = |interactions: PathBuf, items: PathBuf| {
        let mut s = source(interactions);
        s.items = Some(items);
        load(&s).unwrap()
    };
    let (parquet, parquet_report) = with_items(interactions, items);
    let (csv, csv_report) = with_items(csv_interactions, csv_items);
    assert_eq!(parquet_report, csv_report);
    assert_eq!(parquet.histories, csv.histories);
    assert_eq!(parquet.catalog, csv.catalog);
    assert_eq!(parquet.items, csv.items);
    assert_eq!(parquet.catalog[0].genres, ["Comedy", "Drama"]);
    // Time order and the merged repeat (u1 rated item 10 twice: the later 8 is kept).
    assert_eq!(parquet_report.duplicates, 1);

    // Not a Parquet file: an error that names it.
    let fake = write(&d, "fake.parquet", "user,item\n1,2\n");
    let err = load(&source(fake)).unwrap_err().to_string();
    assert!(
        err.contains("fake.parquet") && err.contains("Parquet"),
        "{err}"
    );
}
