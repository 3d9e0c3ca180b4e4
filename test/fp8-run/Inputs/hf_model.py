"""Checks fp8-run --export-hf against what Hugging Face's classes expect, with the Python
standard library only (no torch, no transformers in CI):

  check DIR CKPT        config.json and model.safetensors hold exactly the state dict of
                        GPT2LMHeadModel / LlamaForCausalLM for that config (names, shapes,
                        F32, metadata format = pt), and each tensor is the checkpoint's
                        parameter in HF's layout (Conv1D weights transposed for gpt)
  forward DIR DUMP      HF's forward computation (modeling_gpt2.py / modeling_llama.py,
                        written out here) on the dump's batch gives the dump's loss
  shard DIR OUT         the export as two shards and a model.safetensors.index.json
  same-loss LOG...      the first step's loss and grad_norm are the same in every log
  loaded-exactly DIR DUMP  a hub-style file's weights are the dump's parameters, exactly
  no-metadata FILE OUT  the file without metadata (safetensors' save_file)
  strip-config CKPT OUT the checkpoint without its model description (as before)
  hub DIR OUT [bf16|f16]    a gpt export as the hub's gpt2 file is: GPT2Model names (no
                        `transformer.`), the attention-mask buffers; BF16 if asked

The state dicts are those of transformers' modeling_gpt2.py (GPT2Attention's c_attn and
c_proj and GPT2MLP's c_fc and c_proj are Conv1D(nf=out, nx=in) with weight [in, out]) and
modeling_llama.py (nn.Linear weight [out, in]; RoPE by rotate_half)."""
import json
import math
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "e2e"))
import safetensors_read as st  # noqa: E402


def read_header(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        return json.loads(f.read(n))


def write_safetensors(path, tensors, metadata):
    """tensors: {name: (dtype, shape, bytes)}, written as the reference writer lays out."""
    header, offset, blobs = {}, 0, []
    for name in sorted(tensors):
        dtype, shape, data = tensors[name]
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def hf_state_dict(config):
    """name -> shape of HF's model for this config.json."""
    if config["model_type"] == "gpt2":
        d, V, T = config["n_embd"], config["vocab_size"], config["n_positions"]
        f = config["n_inner"] or 4 * d
        sd = {"transformer.wte.weight": [V, d], "transformer.wpe.weight": [T, d]}
        for i in range(config["n_layer"]):
            h = f"transformer.h.{i}."
            sd.update({h + "ln_1.weight": [d], h + "ln_1.bias": [d],
                       h + "attn.c_attn.weight": [d, 3 * d], h + "attn.c_attn.bias": [3 * d],
                       h + "attn.c_proj.weight": [d, d], h + "attn.c_proj.bias": [d],
                       h + "ln_2.weight": [d], h + "ln_2.bias": [d],
                       h + "mlp.c_fc.weight": [d, f], h + "mlp.c_fc.bias": [f],
                       h + "mlp.c_proj.weight": [f, d], h + "mlp.c_proj.bias": [d]})
        sd.update({"transformer.ln_f.weight": [d], "transformer.ln_f.bias": [d]})
        if not config.get("tie_word_embeddings", True):
            sd["lm_head.weight"] = [V, d]  # save_pretrained leaves a tied head out
        return sd
    d, V, f = config["hidden_size"], config["vocab_size"], config["intermediate_size"]
    hd = config.get("head_dim") or d // config["num_attention_heads"]
    kv = config["num_key_value_heads"] * hd
    sd = {"model.embed_tokens.weight": [V, d], "model.norm.weight": [d], "lm_head.weight": [V, d]}
    for i in range(config["num_hidden_layers"]):
        p = f"model.layers.{i}."
        sd.update({p + "input_layernorm.weight": [d], p + "post_attention_layernorm.weight": [d],
                   p + "self_attn.q_proj.weight": [config["num_attention_heads"] * hd, d],
                   p + "self_attn.k_proj.weight": [kv, d], p + "self_attn.v_proj.weight": [kv, d],
                   p + "self_attn.o_proj.weight": [d, config["num_attention_heads"] * hd],
                   p + "mlp.gate_proj.weight": [f, d], p + "mlp.up_proj.weight": [f, d],
                   p + "mlp.down_proj.weight": [d, f]})
    return sd


def transpose(values, shape):
    r, c = shape
    return [values[i * c + j] for j in range(c) for i in range(r)]


def check(directory, checkpoint):
    config = json.load(open(os.path.join(directory, "config.json")))
    weights = os.path.join(directory, "model.safetensors")
    header = read_header(weights)
    assert header.get("__metadata__", {}).get("format") == "pt", "metadata format must be pt"
    expected = hf_state_dict(config)
    names = set(header) - {"__metadata__"}
    assert names == set(expected), f"missing {set(expected) - names}, extra {names - set(expected)}"
    for name, shape in expected.items():
        assert header[name]["shape"] == shape, f"{name}: {header[name]['shape']} != {shape}"
        assert header[name]["dtype"] == "F32", name
    exported, ckpt = st.load(weights), st.load(checkpoint)
    conv1d = (".attn.c_attn.weight", ".attn.c_proj.weight", ".mlp.c_fc.weight", ".mlp.c_proj.weight")
    transposed = 0
    for name, (_, shape, values) in exported.items():
        if name not in ckpt:
            assert name.endswith(".bias") and not any(values), f"{name}: not in the checkpoint"
            continue
        mine = ckpt[name][2]
        if config["model_type"] == "gpt2" and name.endswith(conv1d):
            mine = transpose(mine, ckpt[name][1])
            transposed += 1
        assert values == mine, f"{name}: values differ from the checkpoint"
    print(f"{config['architectures'][0]}: {len(expected)} tensors as HF names and shapes them, "
          f"{transposed} Conv1D weights transposed")


# ----- HF's forward computation, in double precision -----

def matvec_in_out(x, w, n_in, n_out, bias=None):
    """Conv1D: y = x @ W + b with W [in, out]."""
    return [sum(x[i] * w[i * n_out + o] for i in range(n_in)) + (bias[o] if bias else 0.0)
            for o in range(n_out)]


def matvec_out_in(x, w, n_in, n_out):
    """nn.Linear: y = x @ W^T with W [out, in]."""
    return [sum(x[i] * w[o * n_in + i] for i in range(n_in)) for o in range(n_out)]


def layer_norm(x, w, b, eps):
    m = sum(x) / len(x)
    v = sum((t - m) ** 2 for t in x) / len(x)
    return [(t - m) / math.sqrt(v + eps) * w[i] + b[i] for i, t in enumerate(x)]


def rms_norm(x, w, eps):
    r = 1.0 / math.sqrt(sum(t * t for t in x) / len(x) + eps)
    return [t * r * w[i] for i, t in enumerate(x)]


def attend(q, k, v, n_heads, n_kv, hd):
    """Causal attention over rows of one sequence; query head h reads key head h // rep."""
    rep, T, out = n_heads // n_kv, len(q), []
    for t in range(T):
        row = []
        for h in range(n_heads):
            g = h // rep
            s = [sum(q[t][h * hd + i] * k[u][g * hd + i] for i in range(hd)) / math.sqrt(hd)
                 for u in range(t + 1)]
            m = max(s)
            e = [math.exp(z - m) for z in s]
            z = sum(e)
            row += [sum(e[u] / z * v[u][g * hd + i] for u in range(t + 1)) for i in range(hd)]
        out.append(row)
    return out


def cross_entropy(logits, target):
    m = max(logits)
    return math.log(sum(math.exp(z - m) for z in logits)) + m - logits[target]


# transformers' activations.py: "gelu" is GELUActivation (the exact erf form), "gelu_new"
# NewGELUActivation (the tanh approximation of GPT-2 and BERT's original code).
ACT2FN = {
    "gelu": lambda z: 0.5 * z * (1 + math.erf(z / math.sqrt(2))),
    "gelu_new": lambda z: 0.5 * z * (1 + math.tanh(math.sqrt(2 / math.pi) * (z + 0.044715 * z ** 3))),
}


def gpt2_forward(c, W, tokens):
    d, H, V = c["n_embd"], c["n_head"], c["vocab_size"]
    f, eps = c["n_inner"] or 4 * d, c["layer_norm_epsilon"]
    hd = d // H
    act = ACT2FN[c.get("activation_function", "gelu_new")]
    wte, wpe = W["transformer.wte.weight"], W["transformer.wpe.weight"]
    x = [[wte[tok * d + i] + wpe[t * d + i] for i in range(d)] for t, tok in enumerate(tokens)]
    for layer in range(c["n_layer"]):
        p = lambda n: W[f"transformer.h.{layer}.{n}"]  # noqa: E731
        a = [layer_norm(r, p("ln_1.weight"), p("ln_1.bias"), eps) for r in x]
        qkv = [matvec_in_out(r, p("attn.c_attn.weight"), d, 3 * d, p("attn.c_attn.bias")) for r in a]
        o = attend([r[:d] for r in qkv], [r[d:2 * d] for r in qkv], [r[2 * d:] for r in qkv], H, H, hd)
        o = [matvec_in_out(r, p("attn.c_proj.weight"), d, d, p("attn.c_proj.bias")) for r in o]
        x = [[xi + oi for xi, oi in zip(r, s)] for r, s in zip(x, o)]
        m = [layer_norm(r, p("ln_2.weight"), p("ln_2.bias"), eps) for r in x]
        g = [[act(z) for z in matvec_in_out(r, p("mlp.c_fc.weight"), d, f, p("mlp.c_fc.bias"))]
             for r in m]
        o = [matvec_in_out(r, p("mlp.c_proj.weight"), f, d, p("mlp.c_proj.bias")) for r in g]
        x = [[xi + oi for xi, oi in zip(r, s)] for r, s in zip(x, o)]
    x = [layer_norm(r, W["transformer.ln_f.weight"], W["transformer.ln_f.bias"], eps) for r in x]
    head = W.get("lm_head.weight", wte)
    return [matvec_out_in(r, head, d, V) for r in x]


def rope(row, n_heads, hd, t, theta):
    """HF's apply_rotary_pos_emb: x * cos + rotate_half(x) * sin, rotate_half = cat(-x2, x1)."""
    out, half = list(row), hd // 2
    for h in range(n_heads):
        base = h * hd
        for i in range(half):
            a = t * (1.0 / theta ** (2 * i / hd))
            x1, x2 = row[base + i], row[base + half + i]
            out[base + i] = x1 * math.cos(a) - x2 * math.sin(a)
            out[base + half + i] = x2 * math.cos(a) + x1 * math.sin(a)
    return out


def llama_forward(c, W, tokens):
    d, H, KV, V = c["hidden_size"], c["num_attention_heads"], c["num_key_value_heads"], c["vocab_size"]
    f, eps, theta = c["intermediate_size"], c["rms_norm_eps"], c["rope_theta"]
    hd = d // H
    emb = W["model.embed_tokens.weight"]
    x = [emb[tok * d:(tok + 1) * d] for tok in tokens]
    for layer in range(c["num_hidden_layers"]):
        p = lambda n: W[f"model.layers.{layer}.{n}"]  # noqa: E731
        a = [rms_norm(r, p("input_layernorm.weight"), eps) for r in x]
        q = [rope(matvec_out_in(r, p("self_attn.q_proj.weight"), d, H * hd), H, hd, t, theta)
             for t, r in enumerate(a)]
        k = [rope(matvec_out_in(r, p("self_attn.k_proj.weight"), d, KV * hd), KV, hd, t, theta)
             for t, r in enumerate(a)]
        v = [matvec_out_in(r, p("self_attn.v_proj.weight"), d, KV * hd) for r in a]
        o = [matvec_out_in(r, p("self_attn.o_proj.weight"), H * hd, d) for r in attend(q, k, v, H, KV, hd)]
        x = [[xi + oi for xi, oi in zip(r, s)] for r, s in zip(x, o)]
        m = [rms_norm(r, p("post_attention_layernorm.weight"), eps) for r in x]
        s = []
        for r in m:
            gate = matvec_out_in(r, p("mlp.gate_proj.weight"), d, f)
            up = matvec_out_in(r, p("mlp.up_proj.weight"), d, f)
            s.append([g / (1 + math.exp(-g)) * u for g, u in zip(gate, up)])
        o = [matvec_out_in(r, p("mlp.down_proj.weight"), f, d) for r in s]
        x = [[xi + oi for xi, oi in zip(r, t)] for r, t in zip(x, o)]
    x = [rms_norm(r, W["model.norm.weight"], eps) for r in x]
    return [matvec_out_in(r, W["lm_head.weight"], d, V) for r in x]


def forward(directory, dump):
    config = json.load(open(os.path.join(directory, "config.json")))
    W = {n: v for n, (_, _, v) in st.load(os.path.join(directory, "model.safetensors")).items()}
    D = st.load(dump)
    _, (B, T), tokens = D["batch.tokens"]
    targets, want = D["batch.targets"][2], D["loss"][2][0]
    run = gpt2_forward if config["model_type"] == "gpt2" else llama_forward
    losses = []
    for b in range(B):
        logits = run(config, W, tokens[b * T:(b + 1) * T])
        losses += [cross_entropy(z, targets[b * T + t]) for t, z in enumerate(logits)]
    got = sum(losses) / len(losses)
    print(f"HF forward loss {got:.6f}, fp8c loss {want:.6f}, difference {abs(got - want):.1e}")
    print("PASS" if abs(got - want) < 1e-5 else "FAIL")


def shard(directory, out):
    tensors = read_all(os.path.join(directory, "model.safetensors"))
    names = sorted(tensors)
    half = len(names) // 2
    os.makedirs(out, exist_ok=True)
    weight_map = {}
    for i, part in enumerate((names[:half], names[half:])):
        file = f"model-0000{i + 1}-of-00002.safetensors"
        write_safetensors(os.path.join(out, file), {n: tensors[n] for n in part}, {"format": "pt"})
        weight_map.update({n: file for n in part})
    with open(os.path.join(out, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": sum(len(t[2]) for t in tensors.values())},
                   "weight_map": weight_map}, f, indent=2)
    print(f"{len(names)} tensors in 2 shards")


def hub(directory, out, want="f32"):
    """GPT2Model names, mask buffers [1, 1, T, T], and BF16 or F16 weights if asked."""
    config = json.load(open(os.path.join(directory, "config.json")))
    T = config["n_positions"]
    tensors = {}
    for name, (_, shape, data) in read_all(os.path.join(directory, "model.safetensors")).items():
        floats = struct.unpack(f"<{len(data) // 4}f", data)
        if want == "bf16":
            bits = [struct.unpack("<I", struct.pack("<f", st.bf16(x)))[0] >> 16 for x in floats]
            dtype_name, data = "BF16", struct.pack(f"<{len(bits)}H", *bits)
        elif want == "f16":
            dtype_name, data = "F16", struct.pack(f"<{len(floats)}e", *floats)
        else:
            dtype_name = "F32"
        tensors[name.removeprefix("transformer.")] = (dtype_name, shape, data)
    for i in range(config["n_layer"]):
        mask = [1.0 if j <= k else 0.0 for k in range(T) for j in range(T)]
        tensors[f"h.{i}.attn.bias"] = ("F32", [1, 1, T, T], struct.pack(f"<{T * T}f", *mask))
    os.makedirs(out, exist_ok=True)
    write_safetensors(os.path.join(out, "model.safetensors"), tensors, {"format": "pt"})
    print(f"{len(tensors)} tensors, hub names, {want}")


def read_all(path):
    header = read_header(path)
    with open(path, "rb") as f:
        blob = f.read()
    start = 8 + struct.unpack_from("<Q", blob)[0]
    return {n: (e["dtype"], e["shape"], blob[start + e["data_offsets"][0]:start + e["data_offsets"][1]])
            for n, e in header.items() if n != "__metadata__"}


def strip_config(checkpoint, out):
    """The checkpoint as written before --export-hf: no `config` metadata."""
    meta = read_header(checkpoint)["__metadata__"]
    meta.pop("config")
    write_safetensors(out, read_all(checkpoint), meta)


def decode(dtype, data):
    if dtype == "F32":
        return list(struct.unpack(f"<{len(data) // 4}f", data))
    if dtype == "F16":
        return list(struct.unpack(f"<{len(data) // 2}e", data))
    bits = struct.unpack(f"<{len(data) // 2}H", data)  # BF16
    return [struct.unpack("<f", struct.pack("<I", b << 16))[0] for b in bits]


def loaded_exactly(directory, dump):
    """Every weight of a hub-style file (any float dtype) is the dump's parameter, as
    fp8c names and lays it out: the conversion to F32 is exact."""
    params = {n: v for n, (_, _, v) in st.load(dump).items()}
    conv1d = (".attn.c_attn.weight", ".attn.c_proj.weight", ".mlp.c_fc.weight", ".mlp.c_proj.weight")
    compared, subnormal = 0, 0
    for name, (dtype, shape, data) in read_all(os.path.join(directory, "model.safetensors")).items():
        name = "transformer." + name
        if name.endswith(".attn.bias"):
            continue
        values = decode(dtype, data)
        if dtype == "F16":
            subnormal += sum(1 for x in values if 0 < abs(x) < 2 ** -14)
        if name.endswith(conv1d):
            values = transpose(values, shape)
        assert params[name] == values, f"{name}: not loaded exactly"
        compared += 1
    print(f"{compared} tensors loaded exactly ({dtype}; {subnormal} F16 subnormals)")


def no_metadata(path, out):
    """The file without metadata, as safetensors' save_file writes a state dict."""
    write_safetensors(out, read_all(path), {})


def same_loss(*logs):
    """The first step's loss and gradient norm of each JSONL log, which must be equal."""
    firsts = [json.loads(open(f).readline()) for f in logs]
    values = {(r["loss"], r["grad_norm"]) for r in firsts}
    print(f"first step of {len(logs)} runs: loss, grad_norm {sorted(values)}")
    print("PASS" if len(values) == 1 else "FAIL")


if __name__ == "__main__":
    commands = {"check": check, "forward": forward, "shard": shard, "hub": hub,
                "strip-config": strip_config, "same-loss": same_loss, "no-metadata": no_metadata,
                "loaded-exactly": loaded_exactly}
    commands[sys.argv[1]](*sys.argv[2:])
