//! `--device` / `device =`: picks among the backends compiled in by cargo features.

use burn::tensor::{Device, Tensor};
use std::fmt;
use std::panic::AssertUnwindSafe;
use std::sync::Mutex;

/// A parsed device name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceChoice {
    Flex,
    Ndarray,
    Wgpu(usize),
    Cuda(usize),
}

#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    #[error("unknown device `{0}`; expected flex, ndarray, wgpu[:N] or cuda[:N]")]
    Unknown(String),
    #[error(
        "device `{name}` is not compiled in; rebuild with `--features {feature}` (for example `cargo run --release -p plasticity-cli --features {feature} -- ...`)"
    )]
    NotCompiled { name: String, feature: &'static str },
    #[error(
        "device `{name}` cannot be used: {reason} (is a GPU driver for this backend installed? `--device flex` runs on the CPU)"
    )]
    Unavailable { name: String, reason: String },
}

impl fmt::Display for DeviceChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Flex => write!(f, "flex"),
            Self::Ndarray => write!(f, "ndarray"),
            Self::Wgpu(i) => write!(f, "wgpu:{i}"),
            Self::Cuda(i) => write!(f, "cuda:{i}"),
        }
    }
}

/// Parses `flex`, `ndarray`, `wgpu`, `wgpu:N`, `cuda`, `cuda:N` and checks it is compiled in.
pub fn parse_device(name: &str) -> Result<DeviceChoice, DeviceError> {
    let (kind, index) = match name.split_once(':') {
        Some((k, i)) => (
            k,
            Some(i.parse::<usize>().map_err(|_| DeviceError::Unknown(name.into()))?),
        ),
        None => (name, None),
    };
    let choice = match (kind, index) {
        ("flex", None) => DeviceChoice::Flex,
        ("ndarray", None) => DeviceChoice::Ndarray,
        ("wgpu", i) => DeviceChoice::Wgpu(i.unwrap_or(0)),
        ("cuda", i) => DeviceChoice::Cuda(i.unwrap_or(0)),
        _ => return Err(DeviceError::Unknown(name.into())),
    };
    let (compiled, feature) = match choice {
        DeviceChoice::Flex => (cfg!(feature = "flex"), "flex"),
        DeviceChoice::Ndarray => (cfg!(feature = "ndarray"), "ndarray"),
        DeviceChoice::Wgpu(_) => (cfg!(feature = "wgpu"), "wgpu"),
        DeviceChoice::Cuda(_) => (cfg!(feature = "cuda"), "cuda"),
    };
    if !compiled {
        return Err(DeviceError::NotCompiled {
            name: name.into(),
            feature,
        });
    }
    Ok(choice)
}

impl DeviceChoice {
    /// The Burn device (without autodiff), checked usable: for a GPU backend one tiny operation
    /// runs first, so that a missing adapter or driver is a [`DeviceError::Unavailable`] instead
    /// of the panic Burn's device thread raises.
    pub fn open(self) -> Result<Device, DeviceError> {
        let device = self.device();
        if matches!(self, Self::Flex | Self::Ndarray) {
            return Ok(device);
        }
        probe(&device).map_err(|reason| DeviceError::Unavailable {
            name: self.to_string(),
            reason,
        })?;
        Ok(device)
    }

    /// The Burn device (without autodiff).
    #[allow(unreachable_code, unused_variables)]
    pub fn device(self) -> Device {
        match self {
            #[cfg(feature = "flex")]
            Self::Flex => Device::flex(),
            #[cfg(feature = "ndarray")]
            #[allow(deprecated)]
            // Burn deprecates ndarray in favour of flex; kept for users who ask for it.
            Self::Ndarray => Device::ndarray(),
            #[cfg(feature = "wgpu")]
            Self::Wgpu(i) => Device::wgpu(wgpu_kind(i)),
            #[cfg(feature = "cuda")]
            Self::Cuda(i) => Device::cuda(i),
            // parse_device refuses the backends that are not compiled in.
            #[allow(unreachable_patterns)]
            other => unreachable!("device {other} is not compiled in"),
        }
    }
}

#[cfg(feature = "wgpu")]
fn wgpu_kind(index: usize) -> burn::tensor::DeviceKind {
    // Index 0 lets wgpu choose (a discrete GPU, else lavapipe's software Vulkan).
    if index == 0 {
        burn::tensor::DeviceKind::DefaultDevice
    } else {
        burn::tensor::DeviceKind::DiscreteGpu(index)
    }
}

/// Runs one small operation on `device`. Burn acquires a GPU lazily, on a device thread that
/// panics when it finds no adapter or driver; that panic (and the caller's, which follows) is
/// caught here, silently, and its message returned.
fn probe(device: &Device) -> Result<(), String> {
    static FIRST_PANIC: Mutex<Option<String>> = Mutex::new(None);
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(|info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "a panic without a message".into());
        if let Ok(mut first) = FIRST_PANIC.lock() {
            first.get_or_insert(message);
        }
    }));
    let result = std::panic::catch_unwind(AssertUnwindSafe(|| {
        Tensor::<1>::ones([1], device).sum().into_scalar::<f32>()
    }));
    std::panic::set_hook(previous);
    match result {
        Ok(_) => Ok(()),
        Err(_) => Err(FIRST_PANIC
            .lock()
            .ok()
            .and_then(|mut first| first.take())
            .unwrap_or_else(|| "the device failed".into())),
    }
}

/// Process-wide CPU tuning, called first thing by the CLI (before any thread starts).
///
/// glibc's malloc returns freed buffers above 128 KiB to the kernel, so every step's tensors
/// are fresh pages: a profile of the train-step benchmark spent 28% of the time in page faults
/// and zeroing. Raising the trim and mmap thresholds keeps those buffers in the process:
/// +46% steps/s on the MLP benchmark (docs/benchmarks.md). The trim threshold is 1 GiB: a MiniLM
/// step frees hundreds of MB of activations at the top of the heap, and at 64 MiB glibc gave them
/// back to the kernel every step (LoRA alone, `cargo bench --bench bert -- --modes lora`: 1.60 s
/// per step at 64 MiB, 1.32 s at 1 GiB; full fine-tuning 2.06 s and 1.90 s). The process keeps
/// up to that much freed memory, as PyTorch's caching allocator does; its peak is unchanged.
/// Numerics are unchanged. Returns whether the thresholds were set (glibc on Linux only).
pub fn tune_cpu_process() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        unsafe extern "C" {
            fn mallopt(param: i32, value: i32) -> i32;
        }
        const M_TRIM_THRESHOLD: i32 = -1;
        const M_MMAP_THRESHOLD: i32 = -3;
        // SAFETY: mallopt only changes allocator thresholds; it is called before other threads exist.
        // 32 MiB is glibc's largest mmap threshold; setting either value also turns off the
        // dynamic threshold adjustment.
        unsafe { mallopt(M_TRIM_THRESHOLD, 1 << 30) == 1 && mallopt(M_MMAP_THRESHOLD, 32 << 20) == 1 }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    false
}
