//! The input format: steps of `[header, len_lo, len_hi, frame…]`.

/// One frame of an input, with the peer that sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub peer: u8,
    /// [`SETTLE`], [`RECONNECT`], [`RESYNC`], [`LATER`], or'ed together.
    pub flags: u8,
    pub frame: Vec<u8>,
}

impl Step {
    pub fn new(peer: u8, frame: impl Into<Vec<u8>>) -> Step {
        Step {
            peer,
            flags: 0,
            frame: frame.into(),
        }
    }

    pub fn with(mut self, flags: u8) -> Step {
        self.flags |= flags;
        self
    }
}

/// Encodes steps as one harness input (what the fuzzer's corpus holds).
pub fn encode_steps(steps: &[Step]) -> Vec<u8> {
    let mut out = Vec::new();
    for step in steps {
        let len = u16::try_from(step.frame.len()).unwrap_or(u16::MAX);
        out.push((step.peer & 0x0f) | (step.flags & 0xf0));
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&step.frame[..usize::from(len)]);
    }
    out
}

/// Splits a harness input into steps; never fails, whatever the bytes.
pub fn decode_steps(input: &[u8]) -> Vec<Step> {
    let mut steps = Vec::new();
    let mut rest = input;
    while let Some((&header, tail)) = rest.split_first() {
        let (len, tail) = match tail {
            [lo, hi, tail @ ..] => (usize::from(u16::from_le_bytes([*lo, *hi])), tail),
            _ => (tail.len(), &[][..]),
        };
        let (frame, tail) = tail.split_at(len.min(tail.len()));
        steps.push(Step {
            peer: header & 0x0f,
            flags: header & 0xf0,
            frame: frame.to_vec(),
        });
        rest = tail;
    }
    steps
}
