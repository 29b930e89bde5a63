//! Each equation of section 4 on small cases checked by hand.

mod common;

use burn::module::Param;
use burn::nn::Embedding;
use burn::tensor::{Tensor, TensorData};
use common::*;
use tanp::config::{DecoderKind, Feedback, Fidelity};
use tanp::model::customization::{
    Customization, clustering_loss, kmeans, official_clustering_loss, target_distribution,
};
use tanp::model::decoder::{Decoder, Modulation};
use tanp::model::embedding::{ContentEmbedding, FieldInput, IdEmbedding};
use tanp::model::encoder::{Gaussian, LatentEncoder, PointMlp, masked_mean};
use tanp::model::loss::{prediction_loss, total_loss};

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

fn embedding(rows: usize, dim: usize, v: &[f32]) -> Embedding {
    Embedding {
        weight: Param::from_tensor(t2(rows, dim, v)),
    }
}

#[test]
fn eq5_concatenates_fields_and_averages_multi_valued_ones() {
    // Field 0 (single-valued, 3 values of dim 2), field 1 (multi-valued, 4 values of dim 2).
    let m = ContentEmbedding {
        tables: vec![
            embedding(3, 2, &[0., 0., 1., 2., 3., 4.]),
            embedding(4, 2, &[0., 0., 10., 20., 30., 40., 50., 60.]),
        ],
    };
    let rows: Vec<&[u32]> = vec![&[2], &[1]];
    let f0 = FieldInput::from_rows(rows.into_iter(), &dev());
    let rows: Vec<&[u32]> = vec![&[1, 3], &[2]];
    let f1 = FieldInput::from_rows(rows.into_iter(), &dev());
    let out = values(m.forward(&[f0, f1]));
    // row 0: E1[2] = (3,4); mean(E2[1], E2[3]) = (30, 40). row 1: (1,2); E2[2] = (30,40).
    close(&out, &[3., 4., 30., 40., 1., 2., 30., 40.], 1e-6);
}

#[test]
fn eq6_is_two_sigmoid_layers_over_a_one_hot_id() {
    let m = IdEmbedding {
        w1: embedding(3, 2, &[0., 0., 1., -1., 0.5, 2.]),
        b1: Param::from_tensor(Tensor::from_data(
            TensorData::new(vec![0.5f32, 0.0], [2]),
            &dev(),
        )),
        layer2: linear(2, 1, &[1., -2.], Some(&[0.25])),
        relu: false,
    };
    let rows: Vec<&[u32]> = vec![&[1]];
    let out = values(m.forward(&[FieldInput::from_rows(rows.into_iter(), &dev())]));
    let h = [sigmoid(1.0 + 0.5), sigmoid(-1.0)];
    close(&out, &[sigmoid(h[0] - 2.0 * h[1] + 0.25)], 1e-6);
}

#[test]
fn eq7_applies_relu_after_every_layer_and_eq8_takes_the_masked_mean() {
    let h = PointMlp {
        layers: vec![
            linear(1, 1, &[2.0], Some(&[-1.0])),
            linear(1, 1, &[-1.0], Some(&[0.0])),
        ],
        linear_last: false,
    };
    // points 1, 0.25, 3 -> layer1: 1, -0.5->0, 5 -> layer2: -1->0, 0, -5->0
    let out = values(h.forward(t3(1, 3, 1, &[1.0, 0.25, 3.0])));
    close(&out, &[0.0, 0.0, 0.0], 1e-6);
    let h_code = PointMlp {
        layers: h.layers.clone(),
        linear_last: true,
    };
    close(
        &values(h_code.forward(t3(1, 3, 1, &[1.0, 0.25, 3.0]))),
        &[-1.0, 0.0, -5.0],
        1e-6,
    );
    let mean = values(masked_mean(
        t3(1, 3, 1, &[1.0, 2.0, 6.0]),
        t2(1, 3, &[1.0, 0.0, 1.0]),
    ));
    close(&mean, &[3.5], 1e-6);
}

#[test]
fn eq9_builds_the_gaussian_from_the_aggregated_encoding() {
    let enc = LatentEncoder {
        h: PointMlp {
            layers: vec![linear(1, 1, &[1.0], Some(&[0.0]))],
            linear_last: false,
        },
        w_s: linear(1, 1, &[2.0], None),
        w_mu: linear(1, 1, &[3.0], None),
        w_sigma: linear(1, 1, &[-0.5], None),
        log_variance: false,
    };
    let r = enc.encode_points(t3(1, 2, 1, &[1.0, 3.0]));
    let q = enc.distribution(r, t2(1, 2, &[1.0, 1.0]));
    // r = mean(1, 3) = 2; ReLU(2 * 2) = 4; mu = 12; log sigma = -2.
    close(&values(q.mu.clone()), &[12.0], 1e-5);
    close(&values(q.sigma.clone()), &[(-2.0f32).exp()], 1e-6);
    let z = values(q.sample(t2(1, 1, &[2.0])));
    close(&z, &[12.0 + 2.0 * (-2.0f32).exp()], 1e-5);
}

#[test]
fn kl_between_diagonal_gaussians_matches_the_closed_form() {
    let g = |mu: f32, s: f32| Gaussian {
        mu: t2(1, 1, &[mu]),
        sigma: t2(1, 1, &[s]),
        log_sigma: t2(1, 1, &[s.ln()]),
    };
    let kl = values(g(1.0, 0.5).kl(&g(0.0, 1.0)));
    // log(1/0.5) + (0.25 + 1)/2 - 1/2
    close(&kl, &[2f32.ln() + 0.625 - 0.5], 1e-6);
    close(&values(g(0.3, 0.7).kl(&g(0.3, 0.7))), &[0.0], 1e-6);
}

fn pool(k: usize, d: usize, a: &[f32], fidelity: Fidelity) -> Customization {
    let mut m = Customization::new(2, &[2], d, k, 1.0, fidelity, &dev());
    m.global_pool = Param::from_tensor(t2(k, d, a));
    m
}

#[test]
fn eq11_student_t_assignments_are_normalised() {
    let m = pool(2, 2, &[0.0, 0.0, 3.0, 4.0], Fidelity::Paper);
    let c = values(m.assign(t2(1, 2, &[0.0, 0.0])));
    // squared distances 0 and 25, alpha = 1: q = 1 and 1/26
    let q = [1.0, 1.0 / 26.0];
    close(&c, &[q[0] / (q[0] + q[1]), q[1] / (q[0] + q[1])], 1e-6);
    let code = pool(2, 2, &[0.0, 0.0, 3.0, 4.0], Fidelity::OfficialCode);
    let c = values(code.assign(t2(1, 2, &[0.0, 0.0])));
    // unsquared distance 5: q = 1/6
    close(&c, &[6.0 / 7.0, 1.0 / 7.0], 1e-5);
}

#[test]
fn soft_assignments_sum_to_one() {
    let m = Customization::new(3, &[4], 5, 7, 1.0, Fidelity::Paper, &dev());
    let t = Tensor::<2>::random([6, 5], burn::tensor::Distribution::Normal(0.0, 3.0), &dev());
    let c = values(m.assign(t));
    for row in c.chunks(7) {
        assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-5, "{row:?}");
        assert!(row.iter().all(|&v| v > 0.0));
    }
}

#[test]
fn eq12_mixes_the_task_with_the_pool_through_w_o_and_a_sigmoid() {
    let mut m = pool(2, 2, &[0.0, 0.0, 3.0, 4.0], Fidelity::Paper);
    m.m_phi = PointMlp {
        layers: vec![linear(2, 2, &[0.0, 0.0, 0.0, 0.0], Some(&[0.0, 0.0]))],
        linear_last: true,
    };
    m.w_o = Some(linear(2, 2, &[1.0, 0.0, 0.0, 2.0], None));
    let id = m.forward(t3(1, 1, 2, &[1.0, 1.0]), t2(1, 1, &[1.0]));
    // t = 0, c = (26/27, 1/27), A c = (3/27, 4/27), o = sigmoid(W_o^T (3/27, 4/27))
    let ac = [3.0 / 27.0, 4.0 / 27.0];
    close(&values(id.o), &[sigmoid(ac[0]), sigmoid(2.0 * ac[1])], 1e-6);
}

#[test]
fn eq13_14_target_distribution_and_clustering_loss() {
    let c = t2(2, 2, &[0.8, 0.2, 0.4, 0.6]);
    // f = (1.2, 0.8); weights: row0 (0.64/1.2, 0.04/0.8), row1 (0.16/1.2, 0.36/0.8)
    let w = [[0.64 / 1.2, 0.04 / 0.8], [0.16 / 1.2, 0.36 / 0.8]];
    let d: Vec<f32> = w
        .iter()
        .flat_map(|r| {
            let s: f32 = r.iter().sum();
            r.map(|v| v / s)
        })
        .collect();
    close(&values(target_distribution(c.clone())), &d, 1e-6);
    let cv = [0.8f32, 0.2, 0.4, 0.6];
    let kl: f32 = d.iter().zip(cv).map(|(d, c)| d * (d / c).ln()).sum::<f32>() / 2.0;
    close(&values(clustering_loss(c.clone())), &[kl], 1e-6);
    // The official code's degenerate version: mean over tasks of -sum_j log c_ij.
    let off = -((0.8f32.ln() + 0.2f32.ln()) + (0.4f32.ln() + 0.6f32.ln())) / 2.0;
    close(&values(official_clustering_loss(c)), &[off], 1e-6);
}

#[test]
fn kmeans_finds_separated_groups_and_becomes_the_pool() {
    use rand::SeedableRng;
    // Three tight groups of 2-d points around (0, 0), (10, 0) and (0, 10).
    let centres = [[0.0f32, 0.0], [10.0, 0.0], [0.0, 10.0]];
    let points: Vec<f32> = (0..30)
        .flat_map(|i| {
            let c = centres[i % 3];
            let jitter = (i / 3) as f32 * 0.01;
            [c[0] + jitter, c[1] - jitter]
        })
        .collect();
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let found = kmeans(&points, 2, 3, 10, &mut rng);
    for c in centres {
        let near = found
            .chunks(2)
            .any(|f| (f[0] - c[0]).abs() < 0.1 && (f[1] - c[1]).abs() < 0.1);
        assert!(near, "no centroid near {c:?} in {found:?}");
    }
    // DEC's start: the pool holds the centroids, and a task at a centroid is assigned to it.
    let m = pool(3, 2, &[0.0; 6], Fidelity::Paper).with_pool(&found);
    close(&values(m.global_pool.val()), &found, 0.0);
    let c = values(m.assign(t2(1, 2, &[10.0, 0.0])));
    assert!(c.iter().cloned().fold(0.0, f32::max) > 0.9, "{c:?}");
    // Degenerate inputs: no points, or fewer distinct points than clusters.
    assert_eq!(kmeans(&[], 2, 3, 5, &mut rng), vec![0.0; 6]);
    let same = kmeans(&[1.0, 2.0, 1.0, 2.0], 2, 3, 5, &mut rng);
    assert!(same.chunks(2).all(|c| c == [1.0, 2.0]), "{same:?}");
}

#[test]
fn eq15_16_film_and_gating_film() {
    let o = t2(1, 1, &[1.0]);
    let film = Modulation {
        w_gamma: linear(1, 1, &[0.5], None),
        w_beta: linear(1, 1, &[-1.0], None),
        w_eta: None,
        w_delta: None,
    };
    let p = film.params(o.clone());
    close(&values(p.gamma), &[0.5f32.tanh()], 1e-6);
    close(&values(p.beta), &[(-1.0f32).tanh()], 1e-6);
    let gated = Modulation {
        w_eta: Some(linear(1, 1, &[2.0], None)),
        w_delta: Some(linear(1, 1, &[0.0], None)),
        ..film
    };
    let p = gated.params(o);
    // delta = 0.5, eta = tanh 2: gamma' = 0.5 tanh 0.5 + 0.5 tanh 2
    close(
        &values(p.gamma),
        &[0.5 * 0.5f32.tanh() + 0.5 * 2f32.tanh()],
        1e-6,
    );
    close(
        &values(p.beta),
        &[0.5 * (-1f32).tanh() + 0.5 * 2f32.tanh()],
        1e-6,
    );

    // One decoder layer: ReLU(gamma (W g + b) + beta), then the linear output.
    let mut dec = Decoder::new(1, &[1], 1, DecoderKind::Film, &dev());
    dec.layers = vec![linear(1, 1, &[2.0], Some(&[1.0]))];
    dec.output = linear(1, 1, &[3.0], Some(&[0.5]));
    dec.modulations = vec![Modulation {
        w_gamma: linear(1, 1, &[0.5], None),
        w_beta: linear(1, 1, &[-1.0], None),
        w_eta: None,
        w_delta: None,
    }];
    let params = dec.film(Some(t2(1, 1, &[1.0])));
    let y = values(dec.forward(t3(1, 2, 1, &[1.0, -2.0]), &params));
    let (g, b) = (0.5f32.tanh(), (-1.0f32).tanh());
    let layer = |x: f32| (g * (2.0 * x + 1.0) + b).max(0.0);
    close(&y, &[3.0 * layer(1.0) + 0.5, 3.0 * layer(-2.0) + 0.5], 1e-6);
}

#[test]
fn dot_head_scores_are_the_user_term_plus_the_items_vector_and_bias() {
    // Not in the paper (DecoderHead::Dot): h = ReLU(gamma (W [u | z] + b) + beta), then
    // score_j = w . h + c + e_j . h + b_j with [e_j | b_j] = W_e v_j + b_e.
    let mut dec = Decoder::new(1, &[2], 1, DecoderKind::Film, &dev()).with_item_head(1, &dev());
    dec.layers = vec![linear(1, 2, &[1.0, -1.0], Some(&[0.5, 2.0]))];
    dec.output = linear(2, 1, &[3.0, 1.0], Some(&[0.25]));
    dec.item_head = Some(linear(1, 3, &[1.0, 2.0, -1.0], Some(&[0.0, 1.0, 0.5])));
    dec.modulations = vec![Modulation {
        w_gamma: linear(1, 2, &[0.5, 0.0], None),
        w_beta: linear(1, 2, &[-1.0, 0.0], None),
        w_eta: None,
        w_delta: None,
    }];
    let film = dec.film(Some(t2(1, 1, &[1.0])));
    let (g, b) = (
        (0.5f32.tanh(), 0.0f32.tanh()),
        ((-1.0f32).tanh(), 0.0f32.tanh()),
    );
    // User side [u | z] = 2: W x + b = (2.5, 0.0).
    let h = ((g.0 * 2.5 + b.0).max(0.0), (g.1 * 0.0 + b.1).max(0.0));
    let user_term = 3.0 * h.0 + 1.0 * h.1 + 0.25;
    let item = |v: f32| {
        let (e0, e1, bias) = (v, 2.0 * v + 1.0, -v + 0.5);
        user_term + e0 * h.0 + e1 * h.1 + bias
    };
    let items = dec.item_part(t2(2, 1, &[1.0, -3.0]), 0);
    let h1 = t2(1, 2, &[2.5, 0.0]);
    let catalog = values(dec.score_items(h1.clone(), &film, items));
    close(&catalog, &[item(1.0), item(-3.0)], 1e-5);
    // Per-task points give the same scores as the catalog path.
    let head = dec.item_head.clone().unwrap();
    let points = values(dec.score_points(h1, &film, t3(1, 2, 1, &[1.0, -3.0]), &head));
    close(&points, &catalog, 1e-5);
}

#[test]
fn eq17_18_19_losses() {
    let scores = t2(1, 3, &[2.0, 0.0, 1.0]);
    let y = t2(1, 3, &[1.0, 0.0, 0.0]);
    let mask = t2(1, 3, &[1.0, 1.0, 0.0]);
    let mse = values(prediction_loss(
        scores.clone(),
        y.clone(),
        mask.clone(),
        Feedback::Explicit,
        Fidelity::Paper,
    ));
    close(&mse, &[(1.0 + 0.0) / 2.0], 1e-6);
    let bce = values(prediction_loss(
        scores.clone(),
        y.clone(),
        mask.clone(),
        Feedback::Implicit,
        Fidelity::Paper,
    ));
    let expect = (-(sigmoid(2.0).ln()) - (1.0 - sigmoid(0.0)).ln()) / 2.0;
    close(&bce, &[expect], 1e-6);
    let code = values(prediction_loss(
        scores,
        y,
        mask,
        Feedback::Implicit,
        Fidelity::OfficialCode,
    ));
    close(&code, &[0.5], 1e-6);
    let total = values(total_loss(
        t2(2, 1, &[1.0, 3.0]),
        t2(2, 1, &[0.5, 0.5]),
        Some(t2(1, 1, &[4.0]).reshape([1])),
        0.1,
    ));
    close(&total, &[2.5 + 0.4], 1e-6);
}

#[test]
fn masks_are_built_from_ragged_rows() {
    let rows: Vec<&[u32]> = vec![&[1, 2, 3], &[4]];
    let f = FieldInput::from_rows(rows.into_iter(), &dev());
    let idx: Vec<i64> = f.indices.into_data().convert::<i64>().try_to_vec().unwrap();
    assert_eq!(idx, vec![1, 2, 3, 4, 0, 0]);
    let w = values(f.weights.unwrap());
    close(&w, &[1. / 3., 1. / 3., 1. / 3., 1., 0., 0.], 1e-6);
}

#[test]
fn weighted_adaptation_is_adaptation_on_the_resampled_points() {
    use tanp::model::Tanp;
    let (data, _) = synthetic();
    let model = Tanp::new(&config(&data, DecoderKind::GatingFilm), &dev());
    let u = model.embed_users(&tanp::model::embedding::FieldInput::for_entities(
        &data.users,
        &[0],
        |_, _| false,
        &dev(),
    ));
    let v = model.embed_items(&FieldInput::for_entities(
        &data.items,
        &[0, 1, 2],
        |_, _| false,
        &dev(),
    ));
    let [_, dv] = v.dims();
    let points = |rows: &[usize]| {
        let idx: Vec<i64> = rows.iter().map(|&r| r as i64).collect();
        let idx =
            Tensor::<1, burn::tensor::Int>::from_data(TensorData::new(idx, [rows.len()]), &dev());
        let x = Tanp::join(
            u.clone(),
            v.clone().select(0, idx).reshape([1, rows.len(), dv]),
        );
        let y = [4.0f32, 2.0, 5.0];
        let y: Vec<f32> = rows.iter().map(|&r| y[r]).collect();
        Tanp::with_labels(x, t2(1, rows.len(), &y))
    };
    // Weights (2, 0, 1) on points 0, 1, 2 = the plain adaptation on points 0, 0, 2; a row of
    // ones = the plain adaptation on all three.
    let weighted = model.adapt_weighted(
        points(&[0, 1, 2]),
        t2(2, 3, &[2.0, 0.0, 1.0, 1.0, 1.0, 1.0]),
    );
    let resampled = model.adapt(points(&[0, 0, 2]), t2(1, 3, &[1.0, 1.0, 1.0]));
    let all = model.adapt(points(&[0, 1, 2]), t2(1, 3, &[1.0, 1.0, 1.0]));
    let mu = values(weighted.prior.mu);
    let half = mu.len() / 2;
    close(&mu[..half], &values(resampled.prior.mu), 1e-5);
    close(&mu[half..], &values(all.prior.mu), 1e-5);
    let c = values(weighted.identity.unwrap().c);
    close(
        &c[..c.len() / 2],
        &values(resampled.identity.unwrap().c),
        1e-5,
    );
    close(&c[c.len() / 2..], &values(all.identity.unwrap().c), 1e-5);
}
