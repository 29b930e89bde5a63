//! TaNP, section 4 of the paper, written once for every burn backend.
//!
//! | part | module | equations |
//! |---|---|---|
//! | embedding layers | [`embedding`] | 5, 6 |
//! | encoder h_theta, prior and posterior | [`encoder`] | 7, 8, 9 |
//! | customization module (m_phi, A) | [`customization`] | 10-14 |
//! | adaptive decoder | [`decoder`] | 15, 16 |
//! | losses | [`loss`] | 17, 18, 19 |

pub mod customization;
pub mod decoder;
pub mod embedding;
pub mod encoder;
pub mod loss;

use burn::module::Module;
use burn::tensor::activation::sigmoid;
use burn::tensor::{Device, Tensor};

use crate::config::{
    CatalogZ, DecoderHead, DecoderKind, Feedback, Fidelity, ModelConfig, Objective,
};
use customization::{Customization, TaskIdentity, clustering_loss, official_clustering_loss};
use decoder::{Decoder, FilmParams};
use embedding::{FieldInput, SideEmbedding};
use encoder::{Gaussian, LatentEncoder};

/// A batch of B tasks padded to N points, as tensors. Masks are `[B, N]` with 0 or 1.
#[derive(Clone, Debug)]
pub struct TensorBatch {
    /// Field inputs of each task's user, `B` rows.
    pub users: Vec<FieldInput>,
    /// Field inputs of each point's item, `B * N` rows (task-major).
    pub items: Vec<FieldInput>,
    pub y: Tensor<2>,
    /// The support set S_i (the context): the prior q(z | S_i) and the task identity use it.
    pub support: Tensor<2>,
    /// tau_i, the points of the variational posterior q(z | tau_i).
    pub target: Tensor<2>,
    /// The points whose predictions enter the loss (Q_i in the paper).
    pub predict: Tensor<2>,
}

/// The loss of a training batch and its parts (means over tasks), for logging.
#[derive(Clone, Debug)]
pub struct TrainStep {
    pub loss: Tensor<1>,
    pub prediction: Tensor<1>,
    pub kl: Tensor<1>,
    pub clustering: Option<Tensor<1>>,
}

/// Everything the model derives from a support set before it scores items.
#[derive(Clone, Debug)]
pub struct Adapted {
    /// q(z | S_i) (Eq. 9).
    pub prior: Gaussian,
    /// t_i, c_i and o_i (Eq. 10-12); `None` for the plain decoder.
    pub identity: Option<TaskIdentity>,
    /// gamma and beta per decoder layer (Eq. 15/16).
    pub film: Vec<FilmParams>,
}

#[derive(Module, Debug)]
pub struct Tanp {
    pub user_embedding: SideEmbedding,
    pub item_embedding: SideEmbedding,
    pub encoder: LatentEncoder,
    pub customization: Option<Customization>,
    pub decoder: Decoder,
    pub lambda: f64,
    /// Implicit feedback (Eq. 18) rather than ratings (Eq. 17).
    pub implicit: bool,
    /// [`Fidelity::OfficialCode`] behaviour.
    pub official_code: bool,
    /// [`Objective::Catalog`]: the decoder gives a logit of a softmax over the catalog.
    pub catalog: bool,
}

impl Tanp {
    /// A freshly initialised model (call `device.seed(..)` first for a repeatable one).
    pub fn new(config: &ModelConfig, device: &Device) -> Self {
        let fidelity = config.fidelity;
        let x_dim = config.x_dim();
        let customization = (config.decoder != DecoderKind::Plain).then(|| {
            Customization::new(
                x_dim + 1,
                &config.task_hidden,
                config.t_dim,
                config.k,
                config.alpha,
                fidelity,
                device,
            )
        });
        Tanp {
            user_embedding: SideEmbedding::new(&config.user, fidelity, device),
            item_embedding: SideEmbedding::new(&config.item, fidelity, device),
            encoder: LatentEncoder::new(
                x_dim + 1,
                &config.encoder_hidden,
                config.r_dim,
                config.s_dim,
                config.z_dim,
                fidelity,
                device,
            ),
            customization,
            decoder: match config.head {
                DecoderHead::Mlp => Decoder::new(
                    x_dim + config.z_dim,
                    &config.decoder_hidden,
                    config.t_dim,
                    config.decoder,
                    device,
                ),
                DecoderHead::Dot => Decoder::new(
                    config.user.out_dim() + config.z_dim,
                    &config.decoder_hidden,
                    config.t_dim,
                    config.decoder,
                    device,
                )
                .with_item_head(config.item.out_dim(), device),
            },
            lambda: config.lambda,
            implicit: config.feedback == Feedback::Implicit,
            official_code: fidelity == Fidelity::OfficialCode,
            catalog: config.objective == Objective::Catalog,
        }
    }

    fn feedback(&self) -> Feedback {
        if self.implicit {
            Feedback::Implicit
        } else {
            Feedback::Explicit
        }
    }

    fn fidelity(&self) -> Fidelity {
        if self.official_code {
            Fidelity::OfficialCode
        } else {
            Fidelity::Paper
        }
    }

    /// Item embeddings v_j (Eq. 5/6), `[rows, v_dim]`. They do not depend on the task, so a
    /// caller that scores a whole catalog can compute them once.
    pub fn embed_items(&self, items: &[FieldInput]) -> Tensor<2> {
        self.item_embedding.forward(items)
    }

    /// User embeddings u_i (Eq. 5/6), `[B, u_dim]`.
    pub fn embed_users(&self, users: &[FieldInput]) -> Tensor<2> {
        self.user_embedding.forward(users)
    }

    /// x_ij = [u_i | v_j] for every point, `[B, N, x_dim]`.
    pub fn join(u: Tensor<2>, v: Tensor<3>) -> Tensor<3> {
        let [b, n, _] = v.dims();
        let [_, du] = u.dims();
        Tensor::cat(vec![u.unsqueeze_dim::<3>(1).expand([b, n, du]), v], 2)
    }

    /// [x_ij | y_ij], the input of h_theta (Eq. 7) and m_phi (Eq. 10).
    pub fn with_labels(x: Tensor<3>, y: Tensor<2>) -> Tensor<3> {
        Tensor::cat(vec![x, y.unsqueeze_dim::<3>(2)], 2)
    }

    /// The prior q(z | S_i), the task identity and the FiLM parameters from the support points
    /// selected by `support` in `xy` (`[B, N, x_dim + 1]`).
    pub fn adapt(&self, xy: Tensor<3>, support: Tensor<2>) -> Adapted {
        let r = self.encoder.encode_points(xy.clone());
        let prior = self.encoder.distribution(r, support.clone());
        self.adapt_with(prior, xy, support)
    }

    /// [`Tanp::adapt`] for `S` weightings of one task's support points: `xy` is `[1, N, ..]`,
    /// `weights` `[S, N]` (e.g. how often each point was drawn in a resample). The point
    /// networks h_theta and m_phi run once; only the means of Eq. 8 and 10 and what follows
    /// them run per weighting.
    pub fn adapt_weighted(&self, xy: Tensor<3>, weights: Tensor<2>) -> Adapted {
        let [s, n] = weights.dims();
        let expand = |h: Tensor<3>| {
            let [_, _, d] = h.dims();
            h.expand([s, n, d])
        };
        let r = expand(self.encoder.encode_points(xy.clone()));
        let prior = self.encoder.distribution(r, weights.clone());
        let identity = self
            .customization
            .as_ref()
            .map(|m| m.from_points(expand(m.m_phi.forward(xy)), weights));
        self.adapted(prior, identity)
    }

    fn adapt_with(&self, prior: Gaussian, xy: Tensor<3>, support: Tensor<2>) -> Adapted {
        let identity = self.customization.as_ref().map(|m| m.forward(xy, support));
        self.adapted(prior, identity)
    }

    /// The adapted task from its prior and task identity: the FiLM parameters (Eq. 15/16).
    fn adapted(&self, prior: Gaussian, identity: Option<TaskIdentity>) -> Adapted {
        let film = self.decoder.film(identity.as_ref().map(|i| i.o.clone()));
        Adapted {
            prior,
            identity,
            film,
        }
    }

    /// Raw decoder outputs for points `x` (`[B, N, x_dim]`) given one z per task (`[B, z_dim]`):
    /// a rating for explicit data, a logit for implicit data (see [`Tanp::to_score`]).
    pub fn decode(&self, x: Tensor<3>, z: Tensor<2>, film: &[FilmParams]) -> Tensor<2> {
        let [b, n, dx] = x.dims();
        let [_, dz] = z.dims();
        match &self.decoder.item_head {
            None => {
                let g1 = Tensor::cat(vec![x, z.unsqueeze_dim::<3>(1).expand([b, n, dz])], 2);
                self.decoder.forward(g1, film)
            }
            Some(head) => {
                // x = [u | v_j]: u is the same in every point of a task.
                let du = self.user_side_width() - dz;
                let u = x.clone().slice([0..b, 0..1, 0..du]).reshape([b, du]);
                let v = x.slice([0..b, 0..n, du..dx]);
                self.decoder
                    .score_points(self.user_side(u, z), film, v, head)
            }
        }
    }

    /// The width of the decoder's first-layer input that comes from the user side: the whole
    /// input `u_dim + v_dim + z_dim` for the MLP head, `u_dim + z_dim` for the dot head.
    fn user_side_width(&self) -> usize {
        let [input, _] = self.decoder.layers[0].weight.dims();
        input
    }

    /// `W_u u + W_z z + b`, the first-layer pre-activation's part from the user `u`
    /// (`[B, u_dim]` or `[1, u_dim]`) and z (`[B, z_dim]`), `[B, h_1]`.
    fn user_side(&self, u: Tensor<2>, z: Tensor<2>) -> Tensor<2> {
        let [_, dz] = z.dims();
        let decoder = &self.decoder;
        decoder.first_layer_part(u, 0)
            + decoder.first_layer_bias()
            + decoder.first_layer_part(z, self.user_side_width() - dz)
    }

    /// The item side of the decoder for item embeddings `v` (`[M, v_dim]`), computed once
    /// per catalog: see [`decoder::Decoder::item_part`].
    pub fn item_part(&self, v: Tensor<2>, u_dim: usize) -> Tensor<2> {
        self.decoder.item_part(v, u_dim)
    }

    /// The score shown to a user: the predicted rating, or for implicit data under the paper's
    /// Eq. 18 the probability sigmoid(logit). Monotone, so rankings do not change. (The
    /// catalog objective's logits are turned into probabilities over the whole catalog by the
    /// recommender, which sees every item.)
    pub fn to_score(&self, raw: Tensor<2>) -> Tensor<2> {
        if !self.catalog && self.implicit && !self.official_code {
            sigmoid(raw)
        } else {
            raw
        }
    }

    /// Embeds a batch: `(x, xy)`, `[B, N, x_dim]` and `[B, N, x_dim + 1]`.
    /// The temporary task embeddings t_i (Eq. 10 + mean) of a batch's support sets, `None`
    /// without a customization module.
    pub fn task_embeddings(&self, batch: &TensorBatch) -> Option<Tensor<2>> {
        let m = self.customization.as_ref()?;
        let (_, xy) = self.embed_batch(batch);
        Some(m.forward(xy, batch.support.clone()).t)
    }

    /// The model with its global pool A set to `centroids` ([`Customization::with_pool`]).
    pub fn with_pool(mut self, centroids: &[f32]) -> Self {
        self.customization = self.customization.map(|m| m.with_pool(centroids));
        self
    }

    pub fn embed_batch(&self, batch: &TensorBatch) -> (Tensor<3>, Tensor<3>) {
        let [b, n] = batch.y.dims();
        let u = self.embed_users(&batch.users);
        let v = self.embed_items(&batch.items);
        let [_, dv] = v.dims();
        let x = Self::join(u, v.reshape([b, n, dv]));
        let xy = Self::with_labels(x.clone(), batch.y.clone());
        (x, xy)
    }

    /// Algorithm 1 for one batch: the posterior q(z | tau_i), z sampled from it with noise `eps`
    /// (`[B, z_dim]`), the task embedding from S_i, predictions on the `predict` points, the
    /// prior q(z | S_i), and the loss of Eq. 19.
    pub fn train_step(&self, batch: &TensorBatch, eps: Tensor<2>) -> TrainStep {
        let (x, xy) = self.embed_batch(batch);
        let r = self.encoder.encode_points(xy.clone());
        let posterior = self.encoder.distribution(r.clone(), batch.target.clone());
        let prior = self.encoder.distribution(r, batch.support.clone());
        let adapted = self.adapt_with(prior, xy, batch.support.clone());
        let z = posterior.sample(eps);
        let raw = self.decode(x, z, &adapted.film);
        let l_r = loss::prediction_loss(
            raw,
            batch.y.clone(),
            batch.predict.clone(),
            self.feedback(),
            self.fidelity(),
        );
        self.step_losses(l_r, posterior, adapted)
    }

    /// Raw decoder outputs `[B, M]` for every item whose item side is a row of `h_items`
    /// (`W_v v_j` or `[e_j | b_j]`, see [`Tanp::item_part`]), for users `u`
    /// (`[B, u_dim]`, or `[1, u_dim]` shared), latents `z` (`[B, z_dim]`) and each task's FiLM
    /// parameters: Eq. 15/16 with the item-independent part of the first layer computed once
    /// per task rather than once per item.
    pub fn decode_items(
        &self,
        u: Tensor<2>,
        z: Tensor<2>,
        film: &[FilmParams],
        h_items: Tensor<2>,
    ) -> Tensor<2> {
        let [b, _] = z.dims();
        let per_task = self.user_side(u, z);
        let film: Vec<FilmParams> = film
            .iter()
            .map(|p| FilmParams {
                gamma: p.gamma.clone().expand([b, p.gamma.dims()[1]]),
                beta: p.beta.clone().expand([b, p.beta.dims()[1]]),
            })
            .collect();
        self.decoder.score_items(per_task, &film, h_items)
    }

    /// Algorithm 1 with the catalog objective ([`Objective::Catalog`], not in the paper): z from
    /// the posterior q(z | tau_i) of the user's rated items, the task embedding from S_i as in
    /// [`Tanp::train_step`], and instead of Eq. 17/18 the multinomial likelihood of the user's
    /// liked query items under a softmax over the whole catalog (Mult-DAE's likelihood,
    /// [`loss::catalog_loss`]). `items` describes the M items of the softmax: every catalog
    /// item, or with `correction` (`[B, M]`, added to the logits) a sampled softmax's
    /// candidates ([`crate::catalog::sampled`]); `liked` (`[B, M]`) marks each task's liked
    /// query items; `z` says which z decodes them (`eps`: the noise of a posterior sample).
    pub fn catalog_train_step(
        &self,
        batch: &TensorBatch,
        z: CatalogZ,
        eps: Tensor<2>,
        items: &[FieldInput],
        liked: Tensor<2>,
        correction: Option<Tensor<2>>,
    ) -> TrainStep {
        let (_, xy) = self.embed_batch(batch);
        let r = self.encoder.encode_points(xy.clone());
        let posterior = self.encoder.distribution(r.clone(), batch.target.clone());
        let prior = self.encoder.distribution(r, batch.support.clone());
        let adapted = self.adapt_with(prior, xy, batch.support.clone());
        let z = match z {
            CatalogZ::Sample => posterior.sample(eps),
            CatalogZ::PosteriorMean => posterior.mu.clone(),
            CatalogZ::PriorMean => adapted.prior.mu.clone(),
        };
        let u = self.embed_users(&batch.users);
        let [_, du] = u.dims();
        let h_items = self.item_part(self.embed_items(items), du);
        let raw = self.decode_items(u, z, &adapted.film, h_items);
        let raw = match correction {
            Some(correction) => raw + correction,
            None => raw,
        };
        let l_r = loss::catalog_loss(raw, liked);
        self.step_losses(l_r, posterior, adapted)
    }

    /// Eq. 19 from the prediction loss of each task, the posterior and the adapted task.
    fn step_losses(&self, l_r: Tensor<2>, posterior: Gaussian, adapted: Adapted) -> TrainStep {
        let l_c = posterior.kl(&adapted.prior);
        let l_u = adapted.identity.map(|id| {
            if self.official_code {
                official_clustering_loss(id.c)
            } else {
                clustering_loss(id.c)
            }
        });
        TrainStep {
            loss: loss::total_loss(l_r.clone(), l_c.clone(), l_u.clone(), self.lambda),
            prediction: l_r.mean(),
            kl: l_c.mean(),
            clustering: l_u,
        }
    }

    /// Test-time prediction (section 4.6, last paragraph): z from q(z | S_i) (its mean when
    /// `eps` is `None`, else a sample) and o_i from S_i; scores for every point of the batch.
    pub fn predict(&self, batch: &TensorBatch, eps: Option<Tensor<2>>) -> (Tensor<2>, Adapted) {
        let (x, xy) = self.embed_batch(batch);
        let adapted = self.adapt(xy, batch.support.clone());
        let z = match eps {
            Some(eps) => adapted.prior.sample(eps),
            None => adapted.prior.mu.clone(),
        };
        let raw = self.decode(x, z, &adapted.film);
        (self.to_score(raw), adapted)
    }
}
