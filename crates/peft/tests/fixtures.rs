//! The Burn-layout implementations against numpy reference values written in PyTorch layout by
//! `scripts/peft_reference.py` (fixtures/*.json), within 1e-5.

mod common;

use burn::module::{LoraAdapter, Param, Reparameterization};
use common::{assert_close, burn_weight, fixture, tensor};
use plasticity_peft::ia3::{Ia3, unmerge_ia3};
use plasticity_peft::lora::unmerge_lora;
use plasticity_peft::miss::{MissBat, MissBone, MissMini, unmerge_bat, unmerge_bone, unmerge_mini};
use plasticity_peft::{LoraConfig, TargetModules};

const TOLERANCE: f32 = 1e-5;

#[test]
fn miss_matches_reference_forward_merge_and_unmerge() {
    let cases = fixture(include_str!("../fixtures/miss.json"));
    let mut seen = [0usize; 3];
    for case in &cases {
        let variant = case["variant"].as_str().expect("variant");
        let w = burn_weight(&case["w"]);
        let expected = burn_weight(&case["merged"]);
        let x = tensor::<2>(&case["x"]);
        let (merged, unmerged) = match variant {
            "bone" => {
                seen[0] += 1;
                let b = tensor::<2>(&case["b"]);
                let merged = MissBone {
                    b: Param::from_tensor(b.clone()),
                }
                .apply(w.clone());
                (merged.clone(), unmerge_bone(merged, b))
            }
            "mini" => {
                seen[1] += 1;
                let b = tensor::<2>(&case["b"]);
                let merged = MissMini {
                    b: Param::from_tensor(b.clone()),
                }
                .apply(w.clone());
                (merged.clone(), unmerge_mini(merged, b))
            }
            "bat" => {
                seen[2] += 1;
                let b = tensor::<3>(&case["b"]);
                let merged = MissBat {
                    b: Param::from_tensor(b.clone()),
                }
                .apply(w.clone());
                (merged.clone(), unmerge_bat(merged, b).expect("invertible blocks"))
            }
            other => panic!("unknown variant {other}"),
        };
        let what = format!("{variant} w {:?}", w.dims());
        assert_close(merged.clone(), expected, TOLERANCE, &format!("{what} merged"));
        // y = x W'ᵀ in PyTorch layout is x·W' in Burn layout; for bone/mini the reference y is
        // peft's padded chunk-sum forward.
        assert_close(
            x.matmul(merged),
            tensor::<2>(&case["y"]),
            TOLERANCE,
            &format!("{what} forward"),
        );
        assert_close(unmerged, w, TOLERANCE, &format!("{what} unmerge"));
    }
    // Includes a d_in % r != 0 bone case (14 % 4, 5 % 2) and a mini case with 10 % 4.
    assert_eq!(seen, [3, 2, 2]);
}

#[test]
fn lora_matches_reference_with_both_scalings() {
    for case in fixture(include_str!("../fixtures/lora.json")) {
        let r = case["r"].as_u64().expect("r") as usize;
        let config = LoraConfig::new(TargetModules::Regex(".*".into()))
            .with_r(r)
            .with_alpha(case["alpha"].as_f64().expect("alpha"))
            .with_rslora(case["use_rslora"].as_bool().expect("use_rslora"));
        let scaling = case["scaling"].as_f64().expect("scaling");
        assert!(
            (config.scale() - scaling).abs() < 1e-12,
            "scale {} vs {scaling}",
            config.scale()
        );
        // peft lora_A.weight [r, in] and lora_B.weight [out, r] are Burn's a [in, r] and b [r, out] transposed.
        let adapter = LoraAdapter {
            a: Param::from_tensor(burn_weight(&case["a"])),
            b: Param::from_tensor(burn_weight(&case["b"])),
            scale: config.scale(),
        };
        let w = burn_weight(&case["w"]);
        let merged = adapter.apply(w.clone());
        assert_close(merged.clone(), burn_weight(&case["merged"]), TOLERANCE, "lora merged");
        assert_close(
            tensor::<2>(&case["x"]).matmul(merged.clone()),
            tensor::<2>(&case["y"]),
            TOLERANCE,
            "lora forward",
        );
        assert_close(unmerge_lora(merged, &adapter), w, TOLERANCE, "lora unmerge");
    }
}

#[test]
fn ia3_matches_reference_and_unmerges_within_tolerance() {
    let cases = fixture(include_str!("../fixtures/ia3.json"));
    assert!(cases.iter().any(|c| c["feedforward"].as_bool() == Some(true)));
    for case in cases {
        let feedforward = case["feedforward"].as_bool().expect("feedforward");
        let l = tensor::<1>(&case["l"]);
        let w = burn_weight(&case["w"]);
        let bias = tensor::<1>(&case["bias"]).unsqueeze_dim::<2>(0);
        let x = tensor::<2>(&case["x"]);
        let merged = Ia3 {
            l: Param::from_tensor(l.clone()),
            feedforward,
        }
        .apply(w.clone());
        assert_close(merged.clone(), burn_weight(&case["merged"]), TOLERANCE, "ia3 merged");
        let y = x.matmul(merged.clone()) + bias.clone().repeat_dim(0, 3);
        // Weight-only scaling (documented difference): equals peft's forward for feed-forward
        // modules; for output scaling peft also scales the bias.
        assert_close(y.clone(), tensor::<2>(&case["y_weight_only"]), TOLERANCE, "ia3 forward");
        if feedforward {
            assert_close(y, tensor::<2>(&case["y_peft"]), TOLERANCE, "ia3 ff forward = peft");
        } else {
            let peft_minus_ours = tensor::<2>(&case["y_peft"]) - y;
            let bias_term = (bias * (tensor::<1>(&case["l"]).unsqueeze_dim::<2>(0) - 1.0)).repeat_dim(0, 3);
            assert_close(peft_minus_ours, bias_term, TOLERANCE, "ia3 differs from peft by b(l-1)");
        }
        // unmerge divides by l + 1e-8: with l in [0.5, 1.5] that is exact to f32 rounding.
        let unmerged = unmerge_ia3(merged, l, feedforward);
        assert_close(
            unmerged.clone(),
            burn_weight(&case["unmerged"]),
            TOLERANCE,
            "ia3 unmerge vs reference",
        );
        assert_close(unmerged, w, TOLERANCE, "ia3 unmerge recovers W");
    }
}
