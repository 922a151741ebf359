"""Stable Diffusion through diffusers: loading, the trainable UNet as a diffusion model, a tiny offline pipeline.

Only the UNet trains; the VAE and the text encoder stay frozen (Section 4.2). :class:`LatentDiffusion`
gives the UNet the interface of :class:`sa.diffusion.Diffusion` (``loss``, ``elbo``, ``timesteps``,
``image_shape``), so the diagonal FIM of :mod:`sa.diffusion` and the SA objective of :mod:`sa.forget`
apply to it unchanged, with text embeddings in place of class labels.

Loss convention: ``L_t`` is the mean over latent elements of the squared noise error, as in the
latent diffusion code that the paper's SD experiments use, so the paper's λ = 50 keeps its meaning.
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch
from torch import nn

log = logging.getLogger(__name__)

TRAIN_METHODS = ("full", "xattn", "noxattn")


def load_pipeline(path: str | Path, device: torch.device | str = "cpu", safe: bool = False):
    """A diffusers text-to-image pipeline from a local folder, in float32, with the DDIM scheduler and
    without the safety checker (it would blank the images that the nudity metrics count).

    ``safe`` loads diffusers' Safe Latent Diffusion pipeline (SLD) over the same weights.
    """
    from diffusers import DDIMScheduler, StableDiffusionPipeline, StableDiffusionPipelineSafe

    if not (Path(path) / "model_index.json").is_file():
        raise FileNotFoundError(f"{path} is not a diffusers pipeline folder (no model_index.json)")
    cls = StableDiffusionPipelineSafe if safe else StableDiffusionPipeline
    pipe = cls.from_pretrained(str(path), safety_checker=None, feature_extractor=None,
                               requires_safety_checker=False, local_files_only=True, dtype=torch.float32)
    pipe.scheduler = DDIMScheduler.from_config(pipe.scheduler.config)
    pipe.set_progress_bar_config(disable=True)
    for module in (pipe.vae, pipe.text_encoder):
        module.requires_grad_(False).eval()
    return pipe.to(device)


@torch.no_grad()
def encode_prompts(pipe, prompts: list[str], batch_size: int = 64) -> torch.Tensor:
    """The frozen text encoder's embeddings ``[B, tokens, dim]`` (the UNet's cross-attention context),
    ``batch_size`` prompts per pass (the FIM encodes thousands)."""
    tokens = pipe.tokenizer(prompts, padding="max_length", max_length=pipe.tokenizer.model_max_length,
                            truncation=True, return_tensors="pt").input_ids.to(pipe.text_encoder.device)
    return torch.cat([pipe.text_encoder(chunk)[0] for chunk in tokens.split(batch_size)])


def latent_shape(pipe, resolution: int) -> tuple[int, int, int]:
    """The UNet's latent ``(channels, height, width)`` for images of ``resolution`` pixels."""
    side = resolution // pipe.vae_scale_factor
    return (pipe.unet.config.in_channels, side, side)


def is_cross_attention(name: str) -> bool:
    """diffusers names the text cross-attention of each transformer block ``attn2``."""
    return ".attn2." in f".{name}"


def select_trainable(unet: nn.Module, train_method: str) -> int:
    """Freeze the UNet but for the parameters that ``train_method`` trains; returns their count.

    ``full``: all; ``xattn``: the cross-attention layers (ESD-x); ``noxattn``: all but the
    cross-attention layers, the time embedding and the output layers, as ESD-u and the paper's
    nudity experiment do.
    """
    if train_method not in TRAIN_METHODS:
        raise ValueError(f"train_method {train_method!r} is not one of {', '.join(TRAIN_METHODS)}")
    count = 0
    for name, param in unet.named_parameters():
        if train_method == "full":
            train = True
        elif train_method == "xattn":
            train = is_cross_attention(name)
        else:
            train = not (is_cross_attention(name) or name.startswith(("time_embedding.", "conv_out.",
                                                                      "conv_norm_out.")))
        param.requires_grad_(train)
        count += param.numel() if train else 0
    return count


class LatentDiffusion(nn.Module):
    """The SD UNet with its noise schedule, trained on latents ``x`` with text embeddings ``c``."""

    def __init__(self, unet: nn.Module, alphas_cumprod: torch.Tensor, latent_shape: tuple[int, int, int]):
        super().__init__()
        self.unet = unet
        self.timesteps = len(alphas_cumprod)
        self.image_shape = tuple(latent_shape)
        self.register_buffer("alphas_cumprod", alphas_cumprod.float().clone(), persistent=False)

    @classmethod
    def from_pipeline(cls, pipe, resolution: int) -> "LatentDiffusion":
        if pipe.scheduler.config.get("prediction_type", "epsilon") != "epsilon":
            raise ValueError(f"{pipe.scheduler.config.prediction_type}-prediction models (e.g. SD v2.1) cannot be "
                             "fine-tuned here: the loss is the epsilon-prediction one of SD v1.x")
        model = cls(pipe.unet, pipe.scheduler.alphas_cumprod, latent_shape(pipe, resolution))
        return model.to(pipe.unet.device)

    def loss(self, x: torch.Tensor, c: torch.Tensor, t: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        """Per-sample ``L_t``: the mean over latent elements of ``(eps - eps_theta(x_t, t, c))^2``."""
        abar = self.alphas_cumprod[t][:, None, None, None]
        x_t = abar.sqrt() * x + (1 - abar).sqrt() * eps
        return (eps - self.unet(x_t, t, encoder_hidden_states=c).sample).pow(2).mean(dim=(1, 2, 3))

    def elbo(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        """Per-sample "ELBO" ``-L_t`` at one uniformly drawn timestep (the global RNG, so checkpoints capture it)."""
        t = torch.randint(0, self.timesteps, (len(x),), device=x.device)
        return -self.loss(x, c, t, torch.randn_like(x))


def save_unet_weights(unet: nn.Module, path: str | Path, settings: dict) -> None:
    """The trained parameters only (what a forgotten or erased model stores beside its base pipeline),
    with the settings that trained them."""
    from sa.io import save_torch

    trained = {name: p.detach().cpu().clone() for name, p in unet.named_parameters() if p.requires_grad}
    save_torch({"unet": trained, "settings": settings}, path)


def load_unet_weights(pipe, path: str | Path) -> None:
    """Overwrite the pipeline's UNet parameters with those saved by :func:`save_unet_weights`."""
    from sa.io import load_torch

    state = load_torch(path)
    missing = set(state["unet"]) - {name for name, _ in pipe.unet.named_parameters()}
    if missing:
        raise ValueError(f"{path} holds UNet weights that the base pipeline lacks (e.g. {sorted(missing)[0]}): "
                         "was it trained from another base model?")
    pipe.unet.load_state_dict(state["unet"], strict=False)


# A tiny pipeline with random weights, built offline: tests and smoke runs of the SD rules use it.

def _byte_level_vocab() -> dict[str, int]:
    """A CLIP BPE vocabulary without merges: every byte's symbol, alone and word-final."""
    from tokenizers.pre_tokenizers import ByteLevel

    symbols = sorted(ByteLevel.alphabet())
    tokens = symbols + [s + "</w>" for s in symbols] + ["<|startoftext|>", "<|endoftext|>"]
    return {token: i for i, token in enumerate(tokens)}


def build_tiny_pipeline(dest: str | Path, seed: int = 0, sample_size: int = 8) -> Path:
    """Write a diffusers SD folder with random weights: a 2-level UNet with cross-attention,
    a 1-level VAE (latents at ``sample_size``, images at twice that), a 2-layer CLIP text encoder
    and a byte-level tokenizer. Same structure as SD v1.4, a few hundred thousand parameters."""
    from diffusers import AutoencoderKL, DDIMScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    vocab = _byte_level_vocab()
    tokenizer = CLIPTokenizer(vocab=vocab, merges=[], model_max_length=77)

    torch.manual_seed(seed)
    unet = UNet2DConditionModel(sample_size=sample_size, in_channels=4, out_channels=4, layers_per_block=1,
                                block_out_channels=(32, 64), down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
                                up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"), cross_attention_dim=32,
                                attention_head_dim=8, norm_num_groups=8)
    vae = AutoencoderKL(in_channels=3, out_channels=3, latent_channels=4, block_out_channels=(16, 32),
                        down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2,
                        layers_per_block=1, norm_num_groups=8, sample_size=2 * sample_size)
    text_encoder = CLIPTextModel(CLIPTextConfig(vocab_size=len(vocab), hidden_size=32, intermediate_size=64,
                                                num_hidden_layers=2, num_attention_heads=4, max_position_embeddings=77,
                                                bos_token_id=vocab["<|startoftext|>"], eos_token_id=vocab["<|endoftext|>"],
                                                pad_token_id=vocab["<|endoftext|>"]))
    scheduler = DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", clip_sample=False,
                              set_alpha_to_one=False, steps_offset=1)
    pipe = StableDiffusionPipeline(vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, unet=unet,
                                   scheduler=scheduler, safety_checker=None, feature_extractor=None,
                                   requires_safety_checker=False)
    pipe.save_pretrained(str(dest))
    return dest
