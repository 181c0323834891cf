//! The explanation as values: a verdict, a headline sentence, and sections of lines in a fixed
//! order of importance. Tests look at the sections; the command prints [`Explanation`]'s
//! `Display`.

use std::fmt;

/// What FerroLB did with the Service, in one word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The controller assigned addresses (all, or those of one family under PreferDualStack).
    Assigned,
    /// The controller tried and could not assign an address.
    Pending,
    /// FerroLB should serve the Service but the controller has written nothing on it.
    NotHandled,
    /// FerroLB does not serve the Service: not of type LoadBalancer, or another class.
    NotServed,
}

/// What a section is about. Sections print in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Topic {
    /// Why the Service has its address, or why it has none.
    Why,
    /// What the user can change, most likely first.
    NextSteps,
    /// The pools that matter for this Service.
    Pools,
    /// Who announces the addresses, by Layer2 and BGP, and why; or why nobody does.
    Announcement,
    /// MetalLB aliases read, annotations ignored or malformed.
    Annotations,
    /// FerroLB's recent Events on the Service.
    Events,
}

impl Topic {
    /// The section's heading.
    pub fn heading(self) -> &'static str {
        match self {
            Topic::Why => "Why",
            Topic::NextSteps => "What to change",
            Topic::Pools => "Pools",
            Topic::Annotations => "Annotations",
            Topic::Announcement => "Announcement",
            Topic::Events => "Recent events",
        }
    }
}

/// A section: a topic and its lines, each a sentence or two.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// What it is about.
    pub topic: Topic,
    /// Its lines.
    pub lines: Vec<String>,
}

/// `ferrolb explain service`'s answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    /// In one word.
    pub verdict: Verdict,
    /// The answer in one sentence, printed first.
    pub headline: String,
    /// The details, in [`Topic`] order, none empty.
    pub sections: Vec<Section>,
}

impl Explanation {
    /// An explanation with no section yet.
    pub(crate) fn new(verdict: Verdict, headline: impl Into<String>) -> Self {
        Explanation { verdict, headline: headline.into(), sections: Vec::new() }
    }

    /// Appends `lines` to the section on `topic`, creating it in its place; repeated lines and
    /// empty additions are dropped.
    pub(crate) fn add(&mut self, topic: Topic, lines: impl IntoIterator<Item = String>) {
        for line in lines {
            let at = match self.sections.iter().position(|s| s.topic >= topic) {
                Some(at) if self.sections[at].topic == topic => at,
                Some(at) => {
                    self.sections.insert(at, Section { topic, lines: Vec::new() });
                    at
                }
                None => {
                    self.sections.push(Section { topic, lines: Vec::new() });
                    self.sections.len() - 1
                }
            };
            let section = &mut self.sections[at];
            if !section.lines.contains(&line) {
                section.lines.push(line);
            }
        }
    }

    /// The lines of the section on `topic` (none when there is no such section).
    pub fn lines(&self, topic: Topic) -> &[String] {
        self.sections.iter().find(|s| s.topic == topic).map_or(&[], |s| &s.lines)
    }
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.headline)?;
        for section in &self.sections {
            writeln!(f, "\n{}:", section.topic.heading())?;
            for (i, line) in section.lines.iter().enumerate() {
                match section.topic {
                    Topic::NextSteps => writeln!(f, "  {}. {line}", i + 1)?,
                    _ => writeln!(f, "  {line}")?,
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_keep_topic_order_whatever_the_order_of_adding_and_drop_repeats() {
        let mut explanation = Explanation::new(Verdict::Pending, "headline");
        explanation.add(Topic::Events, ["e".to_owned()]);
        explanation.add(Topic::Why, ["w".to_owned(), "w".to_owned()]);
        explanation.add(Topic::Pools, Vec::new());
        explanation.add(Topic::NextSteps, ["s1".to_owned(), "s2".to_owned()]);
        let topics: Vec<Topic> = explanation.sections.iter().map(|s| s.topic).collect();
        assert_eq!(topics, [Topic::Why, Topic::NextSteps, Topic::Events]);
        assert_eq!(explanation.lines(Topic::Why), ["w"]);
        assert!(explanation.lines(Topic::Pools).is_empty());
        assert_eq!(
            explanation.to_string(),
            "headline\n\nWhy:\n  w\n\nWhat to change:\n  1. s1\n  2. s2\n\nRecent events:\n  e\n"
        );
    }
}
