//! The bookkeeping every descriptor source of the loop shares: a range of mio tokens
//! (`first_token .. first_token + capacity`), one per thing registered, a freed one reused
//! first. Data only: registering and closing stay with the source.

use mio::Token;

pub struct TokenSlots<T> {
    first_token: usize,
    capacity: usize,
    slots: Vec<Option<T>>,
    free: Vec<usize>,
}

impl<T> TokenSlots<T> {
    /// A range that would overflow is shortened.
    pub fn new(first_token: usize, capacity: usize) -> TokenSlots<T> {
        TokenSlots {
            first_token,
            capacity: capacity.min(usize::MAX - first_token),
            slots: Vec::new(),
            free: Vec::new(),
        }
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Whether `token` is in the range, in use or not.
    pub fn owns(&self, token: Token) -> bool {
        self.slot_of(token).is_some()
    }

    /// A free token, to register under and then `fill` (or `abandon`); `None` when full.
    pub fn vacant(&mut self) -> Option<Token> {
        let slot = match self.free.pop() {
            Some(slot) => slot,
            None if self.slots.len() < self.capacity => {
                self.slots.push(None);
                self.slots.len() - 1
            }
            None => return None,
        };
        Some(Token(self.first_token + slot))
    }

    /// Gives a token from `vacant` back unused (its registration failed).
    pub fn abandon(&mut self, token: Token) {
        if let Some(slot) = self.slot_of(token) {
            if self.slots.get(slot).is_some_and(Option::is_none) {
                self.free.push(slot);
            }
        }
    }

    pub fn fill(&mut self, token: Token, value: T) {
        if let Some(entry) = self
            .slot_of(token)
            .and_then(|slot| self.slots.get_mut(slot))
        {
            *entry = Some(value);
        }
    }

    pub fn get(&self, token: Token) -> Option<&T> {
        self.slots.get(self.slot_of(token)?)?.as_ref()
    }

    pub fn get_mut(&mut self, token: Token) -> Option<&mut T> {
        let slot = self.slot_of(token)?;
        self.slots.get_mut(slot)?.as_mut()
    }

    /// Empties the token's slot for reuse; what it held, if anything.
    pub fn take(&mut self, token: Token) -> Option<T> {
        let slot = self.slot_of(token)?;
        let value = self.slots.get_mut(slot)?.take()?;
        self.free.push(slot);
        Some(value)
    }

    /// Every filled slot with its token.
    pub fn iter(&self) -> impl Iterator<Item = (Token, &T)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(slot, value)| Some((Token(self.first_token + slot), value.as_ref()?)))
    }

    /// Every filled slot's value, to be dropped by their owner.
    pub fn clear(&mut self) {
        self.slots.clear();
        self.free.clear();
    }

    fn slot_of(&self, token: Token) -> Option<usize> {
        token
            .0
            .checked_sub(self.first_token)
            .filter(|&slot| slot < self.capacity)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_handed_out_in_range_and_reused() {
        let mut slots: TokenSlots<&str> = TokenSlots::new(100, 2);
        let a = slots.vacant().unwrap();
        slots.fill(a, "a");
        let b = slots.vacant().unwrap();
        assert_eq!((a, b), (Token(100), Token(101)));
        assert_eq!(slots.vacant(), None, "full: b is reserved");
        slots.abandon(b);
        assert_eq!(slots.vacant(), Some(b));
        slots.fill(b, "b");
        assert_eq!(slots.take(a), Some("a"));
        assert_eq!(slots.take(a), None, "taken once");
        assert_eq!(slots.vacant(), Some(a));
        assert!(slots.owns(Token(101)) && !slots.owns(Token(102)) && !slots.owns(Token(99)));
        assert_eq!(
            slots.iter().map(|(t, v)| (t, *v)).collect::<Vec<_>>(),
            [(b, "b")]
        );
        assert_eq!(TokenSlots::<()>::new(usize::MAX - 1, 10).capacity(), 1);
    }
}
