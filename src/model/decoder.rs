//! The adaptive decoder g_omega_i, section 4.5 (Eq. 15 FiLM, Eq. 16 Gating-FiLM), and the plain
//! decoder of the "w/o tm" ablation.

use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::activation::{relu, sigmoid, tanh};
use burn::tensor::{Device, Tensor};

use super::encoder::linear_stack;
#[cfg(doc)]
use crate::config::DecoderHead;
use crate::config::DecoderKind;

/// The feature modulation of one decoder layer, generated from the task embedding o_i.
#[derive(Module, Debug)]
pub struct Modulation {
    pub w_gamma: Linear,
    pub w_beta: Linear,
    /// Gating-FiLM only (Eq. 16).
    pub w_eta: Option<Linear>,
    pub w_delta: Option<Linear>,
}

/// gamma and beta of one layer, `[B, h]` each.
#[derive(Clone, Debug)]
pub struct FilmParams {
    pub gamma: Tensor<2>,
    pub beta: Tensor<2>,
}

impl Modulation {
    fn new(t_dim: usize, width: usize, gating: bool, device: &Device) -> Self {
        let linear = || {
            LinearConfig::new(t_dim, width)
                .with_bias(false)
                .init(device)
        };
        Modulation {
            w_gamma: linear(),
            w_beta: linear(),
            w_eta: gating.then(linear),
            w_delta: gating.then(linear),
        }
    }

    /// Eq. 15 (`gamma = tanh(W_gamma o)`, `beta = tanh(W_beta o)`), gated as in Eq. 16 when
    /// the gating weights exist: `gamma' = gamma * delta + eta * (1 - delta)`, same for beta.
    pub fn params(&self, o: Tensor<2>) -> FilmParams {
        let gamma = tanh(self.w_gamma.forward(o.clone()));
        let beta = tanh(self.w_beta.forward(o.clone()));
        match (&self.w_eta, &self.w_delta) {
            (Some(w_eta), Some(w_delta)) => {
                let eta = tanh(w_eta.forward(o.clone()));
                let delta = sigmoid(w_delta.forward(o));
                let keep = eta * (delta.clone().neg() + 1.0);
                FilmParams {
                    gamma: gamma * delta.clone() + keep.clone(),
                    beta: beta * delta + keep,
                }
            }
            _ => FilmParams { gamma, beta },
        }
    }
}

#[derive(Module, Debug)]
pub struct Decoder {
    pub layers: Vec<Linear>,
    /// One modulation per hidden layer; empty for the plain decoder.
    pub modulations: Vec<Modulation>,
    /// Maps the last hidden layer to one score (MLP head), or to the user's term `w . h_i`
    /// of the score (dot head).
    pub output: Linear,
    /// The dot head only ([`DecoderHead::Dot`], not in the paper): `v_j -> [e_j | b_j]`,
    /// each item's output vector (the last hidden width) and bias.
    pub item_head: Option<Linear>,
}

impl Decoder {
    pub fn new(
        input: usize,
        hidden: &[usize],
        t_dim: usize,
        kind: DecoderKind,
        device: &Device,
    ) -> Self {
        let modulations = match kind {
            DecoderKind::Plain => Vec::new(),
            DecoderKind::Film | DecoderKind::GatingFilm => hidden
                .iter()
                .map(|&h| Modulation::new(t_dim, h, kind == DecoderKind::GatingFilm, device))
                .collect(),
        };
        Decoder {
            layers: linear_stack(input, hidden, device),
            modulations,
            output: LinearConfig::new(*hidden.last().expect("validated"), 1).init(device),
            item_head: None,
        }
    }

    /// The same decoder with a dot head ([`DecoderHead::Dot`]) for item embeddings of width
    /// `v_dim`; `input` given to [`Decoder::new`] is then the user side's width, `u_dim + z_dim`.
    pub fn with_item_head(mut self, v_dim: usize, device: &Device) -> Self {
        // The shape the weight will have, without drawing its random values: a model about to
        // load its weights runs nothing on the device while it is built.
        let width = self.output.weight.lazy_shape()[0];
        self.item_head = Some(LinearConfig::new(v_dim, width + 1).init(device));
        self
    }

    /// The part of the decoder that depends on the item alone, for item embeddings `v`
    /// (`[M, v_dim]`) that sit at column `start` of the MLP head's input: `W_v v_j` of the
    /// first layer (`[M, h_1]`, MLP head) or `[e_j | b_j]` (`[M, h_L + 1]`, dot head). A caller
    /// that scores a whole catalog computes it once.
    pub fn item_part(&self, v: Tensor<2>, start: usize) -> Tensor<2> {
        match &self.item_head {
            Some(head) => head.forward(v),
            None => self.first_layer_part(v, start),
        }
    }

    /// Scores `[B, M]` of the items whose [`Decoder::item_part`] rows are `items` (`[M, w]`),
    /// for the user side's first-layer pre-activation `h1_user` (`[B, h_1]`: `W_u u + W_z z +
    /// b`) and each task's FiLM parameters (`[B, h_l]` each).
    pub fn score_items(
        &self,
        h1_user: Tensor<2>,
        film: &[FilmParams],
        items: Tensor<2>,
    ) -> Tensor<2> {
        let [b, _] = h1_user.dims();
        let [m, w] = items.dims();
        match &self.item_head {
            None => {
                let h1 = items.unsqueeze_dim::<3>(0).expand([b, m, w]) + h1_user.unsqueeze_dim(1);
                self.forward_from_first(h1, film)
            }
            Some(_) => {
                let g = self.user_vector(h1_user, film);
                let e = items.clone().slice([0..m, 0..w - 1]);
                let bias = items.slice([0..m, w - 1..w]).reshape([1, m]);
                g.clone().matmul(e.transpose()) + bias + self.output.forward(g)
            }
        }
    }

    /// Dot head: scores `[B, N]` of per-task items `v` (`[B, N, v_dim]`) for the user side's
    /// first-layer pre-activation `h1_user` (`[B, h_1]`).
    pub fn score_points(
        &self,
        h1_user: Tensor<2>,
        film: &[FilmParams],
        v: Tensor<3>,
        head: &Linear,
    ) -> Tensor<2> {
        let [b, n, _] = v.dims();
        let items = head.forward(v);
        let [_, _, w] = items.dims();
        let g = self.user_vector(h1_user, film);
        let e = items.clone().slice([0..b, 0..n, 0..w - 1]);
        let bias = items.slice([0..b, 0..n, w - 1..w]).reshape([b, n]);
        (e * g.clone().unsqueeze_dim::<3>(1))
            .sum_dim(2)
            .reshape([b, n])
            + bias
            + self.output.forward(g)
    }

    /// The FiLM parameters of every layer for task embeddings `o` (`[B, t_dim]`).
    pub fn film(&self, o: Option<Tensor<2>>) -> Vec<FilmParams> {
        match o {
            Some(o) => self
                .modulations
                .iter()
                .map(|m| m.params(o.clone()))
                .collect(),
            None => Vec::new(),
        }
    }

    /// `g^{l+1} = ReLU(gamma ⊙ (W g^l + b) + beta)` for each layer, then a linear output.
    /// `g1` is `[B, N, x_dim + z_dim]`; returns the raw scores `[B, N]`.
    pub fn forward(&self, g1: Tensor<3>, film: &[FilmParams]) -> Tensor<2> {
        self.forward_from_first(self.layers[0].forward(g1), film)
    }

    /// The same as [`Decoder::forward`] from the first layer's pre-activation `W g^1 + b`
    /// (`[B, N, h_1]`) on. Since `g^1 = [u | v | z]`, `W g^1 = W_u u + W_v v + W_z z`, and a
    /// caller that scores a whole catalog can compute the item part `W_v v` once
    /// ([`Decoder::first_layer_part`]).
    pub fn forward_from_first(&self, h1: Tensor<3>, film: &[FilmParams]) -> Tensor<2> {
        let [b, n, _] = h1.dims();
        self.output
            .forward(self.hidden_from_first(h1, film))
            .reshape([b, n])
    }

    /// Dot head: the user's vector h_i (`[B, h_L]`), the last hidden layer of the user side
    /// from its first-layer pre-activation `h1_user` (`[B, h_1]`).
    fn user_vector(&self, h1_user: Tensor<2>, film: &[FilmParams]) -> Tensor<2> {
        let [b, h] = h1_user.dims();
        let g = self.hidden_from_first(h1_user.reshape([b, 1, h]), film);
        let [_, _, width] = g.dims();
        g.reshape([b, width])
    }

    /// The last hidden layer `g^L` from the first layer's pre-activation.
    fn hidden_from_first(&self, h1: Tensor<3>, film: &[FilmParams]) -> Tensor<3> {
        let mut g = Self::modulate(h1, film.first());
        for (l, layer) in self.layers.iter().enumerate().skip(1) {
            g = Self::modulate(layer.forward(g), film.get(l));
        }
        g
    }

    /// `ReLU(gamma ⊙ h + beta)`, or `ReLU(h)` without modulation.
    fn modulate(h: Tensor<3>, film: Option<&FilmParams>) -> Tensor<3> {
        relu(match film {
            Some(p) => {
                h * p.gamma.clone().unsqueeze_dim::<3>(1) + p.beta.clone().unsqueeze_dim::<3>(1)
            }
            None => h,
        })
    }

    /// `x W[start..start + w]`: the first layer's product with the input columns
    /// `start..start + w` only (no bias), for `x` of shape `[R, w]`; returns `[R, h_1]`.
    pub fn first_layer_part(&self, x: Tensor<2>, start: usize) -> Tensor<2> {
        let w = self.layers[0].weight.val();
        let [_, h] = w.dims();
        let [_, width] = x.dims();
        x.matmul(w.slice([start..start + width, 0..h]))
    }

    /// The first layer's bias `[1, h_1]` (zeros when the layer has none).
    pub fn first_layer_bias(&self) -> Tensor<2> {
        let layer = &self.layers[0];
        match &layer.bias {
            Some(b) => b.val().unsqueeze_dim(0),
            None => {
                let w = layer.weight.val();
                let [_, h] = w.dims();
                Tensor::zeros([1, h], &w.device())
            }
        }
    }
}
