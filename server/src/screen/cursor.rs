//! The lib0 primitives an update is written in, read without allocating:
//! bytes, variable-length integers, ids, strings. Every read says what it
//! expected, so a refusal names what was wrong.

use yrs::ClientID;

/// Client ids are JavaScript-safe integers (yrs asserts it in debug builds).
const MAX_CLIENT_ID: u64 = (1 << 53) - 1;

/// A cursor over an update's bytes; every read says what it expected.
pub(super) struct Bytes<'a> {
    buf: &'a [u8],
    at: usize,
}

impl<'a> Bytes<'a> {
    /// A cursor at the start of `buf`.
    pub(super) fn new(buf: &'a [u8]) -> Self {
        Bytes { buf, at: 0 }
    }

    /// How many bytes are left to read.
    pub(super) fn remaining(&self) -> usize {
        self.buf.len() - self.at
    }

    pub(super) fn u8(&mut self, what: &str) -> Result<u8, String> {
        let byte = *self
            .buf
            .get(self.at)
            .ok_or_else(|| format!("the update ends before its {what}"))?;
        self.at += 1;
        Ok(byte)
    }

    /// A lib0 variable-length unsigned integer (at most 64 bits).
    pub(super) fn var(&mut self, what: &str) -> Result<u64, String> {
        let mut value: u64 = 0;
        for shift in (0..64).step_by(7) {
            let byte = self.u8(what)?;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                if shift == 63 && byte > 1 {
                    break;
                }
                return Ok(value);
            }
        }
        Err(format!("the {what} is not a 64-bit number"))
    }

    pub(super) fn u32(&mut self, what: &str) -> Result<u32, String> {
        let value = self.var(what)?;
        u32::try_from(value).map_err(|_| format!("the {what} ({value}) exceeds 2^32"))
    }

    pub(super) fn client(&mut self) -> Result<u64, String> {
        let client = self.var("client id")?;
        if client > MAX_CLIENT_ID {
            return Err(format!("client id {client} exceeds 2^53"));
        }
        Ok(client)
    }

    pub(super) fn id(&mut self) -> Result<(ClientID, u32), String> {
        let client = ClientID::new(self.client()?);
        Ok((client, self.u32("clock")?))
    }

    pub(super) fn skip(&mut self, len: usize, what: &str) -> Result<(), String> {
        if self.buf.len() - self.at < len {
            return Err(format!("the update ends inside its {what}"));
        }
        self.at += len;
        Ok(())
    }

    pub(super) fn buf(&mut self, what: &str) -> Result<&'a [u8], String> {
        let len = self.var(what)?;
        let len = usize::try_from(len).map_err(|_| format!("the {what} is too long"))?;
        let start = self.at;
        self.skip(len, what)?;
        Ok(&self.buf[start..self.at])
    }

    pub(super) fn str(&mut self, what: &str) -> Result<&'a str, String> {
        let raw = self.buf(what)?;
        std::str::from_utf8(raw).map_err(|_| format!("the {what} is not UTF-8"))
    }
}
