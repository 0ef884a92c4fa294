// The augmentation text language: lines -> statements (name, name=value parameters; End) ->
// augmentations. Each augmentation's own parameter table (Describe) checks and fills the values,
// so the language knows no augmentation by heart beyond the table of names below.
#include <cctype>
#include <charconv>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

#include "augment/params.h"
#include "ecvl/augment.h"

namespace ecvl {

std::shared_ptr<SingleAugmentation> AugmentationFactory::Blank(const std::string& name) {
    // every single augmentation with its defaults (required parameters still unset): the parser
    // fills them through the augmentation's parameter table
    static const std::map<std::string, std::function<SingleAugmentation*()>> table = {
        {"AugRotate", [] { return new AugRotate(); }},
        {"AugResizeDim", [] { return new AugResizeDim(); }},
        {"AugResizeScale", [] { return new AugResizeScale(); }},
        {"AugFlip", [] { return new AugFlip(); }},
        {"AugMirror", [] { return new AugMirror(); }},
        {"AugTranspose", [] { return new AugTranspose(); }},
        {"AugElasticTransform", [] { return new AugElasticTransform(); }},
        {"AugGridDistortion", [] { return new AugGridDistortion(); }},
        {"AugOpticalDistortion", [] { return new AugOpticalDistortion(); }},
        {"AugAffine", [] { return new AugAffine(); }},
        {"AugCenterCrop", [] { return new AugCenterCrop(); }},
        {"AugRandomCrop", [] { return new AugRandomCrop(); }},
        {"AugRandomResizedCrop", [] { return new AugRandomResizedCrop(); }},
        {"AugToFloat32", [] { return new AugToFloat32(); }},
        {"AugDivBy255", [] { return new AugDivBy255(); }},
        {"AugGaussianBlur", [] { return new AugGaussianBlur(); }},
        {"AugAdditiveLaplaceNoise", [] { return new AugAdditiveLaplaceNoise(); }},
        {"AugAdditivePoissonNoise", [] { return new AugAdditivePoissonNoise(); }},
        {"AugGaussianNoise", [] { return new AugGaussianNoise(); }},
        {"AugGammaContrast", [] { return new AugGammaContrast(); }},
        {"AugBrightness", [] { return new AugBrightness(); }},
        {"AugContrast", [] { return new AugContrast(); }},
        {"AugCoarseDropout", [] { return new AugCoarseDropout(); }},
        {"AugSalt", [] { return new AugSalt(); }},
        {"AugPepper", [] { return new AugPepper(); }},
        {"AugSaltAndPepper", [] { return new AugSaltAndPepper(); }},
        {"AugNormalize", [] { return new AugNormalize(); }},
        {"AugScaleTo", [] { return new AugScaleTo(); }},
        {"AugCLAHE", [] { return new AugCLAHE(); }},
    };
    const auto it = table.find(name);
    return it == table.end() ? nullptr : std::shared_ptr<SingleAugmentation>(it->second());
}

namespace {

using detail::FormatNumber;

struct Pos {
    int line = 0, col = 0;
};

struct Value {
    enum Kind { Number, Range, Vector, String } kind = Number;
    std::vector<double> numbers;  // Number: 1, Range: 2, Vector: any
    std::string text;
    Pos at;
    const char* kind_name() const {
        static const char* n[] = {"a number", "a range [a,b]", "a vector (v1,v2,...)", "a string \"...\""};
        return n[kind];
    }
};

struct Param {
    std::string name;
    Pos at;
    Value value;
    bool used = false;
};

struct Statement {
    std::string name;  // "End" for a container's end
    Pos at;
    std::vector<Param> params;
};

const char* const kContainers[] = {"SequentialAugmentationContainer", "OneOfAugmentationContainer",
                                   "SomeOfAugmentationContainer"};
bool is_container(const std::string& n) {
    for (const char* c : kContainers)
        if (n == c) return true;
    return false;
}
bool is_end(const std::string& n) { return n == "End" || n == "end"; }

using BlankFn = std::shared_ptr<SingleAugmentation> (*)(const std::string&);

class Parser {
public:
    Parser(std::istream& is, std::string source, BlankFn blank) : src_(std::move(source)), blank_(blank) {
        for (std::string line; std::getline(is, line);) {
            if (!line.empty() && line.back() == '\r') line.pop_back();
            lines_.push_back(line);
        }
    }

    AugmentationPtr Parse() {
        for (size_t i = 0; i < lines_.size(); ++i) lex_line(int(i) + 1, lines_[i]);
        if (stmts_.empty()) fail({1, 1}, "no augmentation (the text is empty or only comments)");
        size_t i = 0;
        AugmentationPtr a = parse_one(i);
        if (i < stmts_.size()) {
            const Statement& s = stmts_[i];
            if (is_end(s.name))
                fail(s.at, "End with no open container");
            fail(s.at, "text after the end of the augmentation (\"" + s.name +
                           "\"): the text holds one augmentation; list several inside a SequentialAugmentationContainer");
        }
        return a;
    }

private:
    [[noreturn]] void fail(Pos p, const std::string& msg) const {
        ECVL_FAIL(src_ << ":" << p.line << ":" << p.col << ": " << msg);
    }

    // ---- lexing: one line into a statement (or parameters continuing the previous one) ----

    void lex_line(int ln, const std::string& s) {
        size_t i = 0;
        auto skip = [&] {
            while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
            if (i < s.size() && s[i] == '#') i = s.size();  // a comment to the end of the line
        };
        auto ident = [&] {
            const size_t b = i;
            while (i < s.size() && (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '_')) ++i;
            return s.substr(b, i - b);
        };
        skip();
        if (i == s.size()) return;
        const Pos head{ln, int(i) + 1};
        if (!(std::isalpha(static_cast<unsigned char>(s[i])) || s[i] == '_'))
            fail(head, std::string("expected an augmentation name, found '") + s[i] + "'");
        std::string name = ident();
        size_t after = i;
        while (after < s.size() && (s[after] == ' ' || s[after] == '\t')) ++after;
        std::vector<Param>* params = nullptr;
        if (after < s.size() && s[after] == '=') {
            // `name=value` first: the previous augmentation's parameters go on (a wrapped line)
            if (stmts_.empty() || is_end(stmts_.back().name))
                fail(head, "parameter '" + name + "' with no augmentation line before it");
            params = &stmts_.back().params;
            i = head.col - 1;
        } else {
            stmts_.push_back({name, head, {}});
            params = &stmts_.back().params;
        }
        for (;;) {
            skip();
            if (i == s.size()) break;
            const Pos at{ln, int(i) + 1};
            if (!(std::isalpha(static_cast<unsigned char>(s[i])) || s[i] == '_'))
                fail(at, std::string("expected a parameter name=value, found '") + s[i] + "'");
            Param p{ident(), at, {}, false};
            while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
            if (i == s.size() || s[i] != '=')
                fail({ln, int(i) + 1}, "expected '=' after the parameter name '" + p.name + "'");
            ++i;
            while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
            p.value = lex_value(ln, s, i);
            for (const Param& q : *params)
                if (q.name == p.name)
                    fail(at, "parameter '" + p.name + "' given twice (first at line " + std::to_string(q.at.line) +
                                 ", column " + std::to_string(q.at.col) + ")");
            params->push_back(std::move(p));
            if (i < s.size() && !std::isspace(static_cast<unsigned char>(s[i])) && s[i] != '#')
                fail({ln, int(i) + 1}, std::string("expected a space after the value, found '") + s[i] + "'");
        }
    }

    double lex_number(int ln, const std::string& s, size_t& i, const char* in) {
        const size_t b = i;
        while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.' || s[i] == '-' ||
                                s[i] == '+' || s[i] == 'e' || s[i] == 'E'))
            ++i;
        double v = 0;
        const char* first = s.data() + b + (b < s.size() && s[b] == '+' ? 1 : 0);
        const auto r = std::from_chars(first, s.data() + i, v);
        if (i == b || r.ec != std::errc() || r.ptr != s.data() + i) {
            size_t e = i == b ? b + 1 : i;
            fail({ln, int(b) + 1}, std::string("malformed ") + in + ": expected a number, found '" +
                                       s.substr(b, std::min(e, s.size()) - b) + "'");
        }
        return v;
    }

    Value lex_value(int ln, const std::string& s, size_t& i) {
        Value v;
        v.at = {ln, int(i) + 1};
        auto spaces = [&] {
            while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
        };
        if (i == s.size()) fail(v.at, "missing value after '='");
        if (s[i] == '"') {
            const size_t close = s.find('"', i + 1);
            if (close == std::string::npos) fail(v.at, "malformed string: no closing '\"'");
            v.kind = Value::String;
            v.text = s.substr(i + 1, close - i - 1);
            i = close + 1;
        } else if (s[i] == '[') {
            v.kind = Value::Range;
            ++i;
            spaces();
            v.numbers.push_back(lex_number(ln, s, i, "range"));
            spaces();
            if (i == s.size() || s[i] != ',')
                fail({ln, int(i) + 1}, "malformed range: expected ',' between the two ends of [a,b]");
            ++i;
            spaces();
            v.numbers.push_back(lex_number(ln, s, i, "range"));
            spaces();
            if (i == s.size() || s[i] != ']') fail({ln, int(i) + 1}, "malformed range: expected ']' after [a,b");
            ++i;
            if (v.numbers[0] > v.numbers[1])
                fail(v.at, "range [" + FormatNumber(v.numbers[0]) + "," + FormatNumber(v.numbers[1]) +
                               "] has its minimum above its maximum");
        } else if (s[i] == '(') {
            v.kind = Value::Vector;
            ++i;
            spaces();
            if (i < s.size() && s[i] == ')') {
                ++i;
                return v;
            }
            for (;;) {
                v.numbers.push_back(lex_number(ln, s, i, "vector"));
                spaces();
                if (i < s.size() && s[i] == ',') {
                    ++i;
                    spaces();
                    continue;
                }
                if (i < s.size() && s[i] == ')') {
                    ++i;
                    break;
                }
                fail({ln, int(i) + 1}, "malformed vector: expected ',' or ')'");
            }
        } else if (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '-' || s[i] == '+' || s[i] == '.') {
            v.kind = Value::Number;
            v.numbers.push_back(lex_number(ln, s, i, "number"));
        } else {
            fail(v.at, std::string("malformed value: expected a number, [a,b], (v1,...) or \"text\", found '") + s[i] +
                           "' (strings need quotes)");
        }
        return v;
    }

    // ---- statements into augmentations ----

    AugmentationPtr parse_one(size_t& i) {
        Statement& st = stmts_[i++];
        if (is_end(st.name)) fail(st.at, "End with no open container");
        if (is_container(st.name)) return parse_container(st, i);
        std::shared_ptr<SingleAugmentation> a = blank_(st.name);
        if (!a) fail(st.at, "unknown augmentation '" + st.name + "'" + suggestion(st.name));
        ParseVisitor v(*this, st);
        a->Describe(v);
        unknown_params(st, v.names);
        return a;
    }

    AugmentationPtr parse_container(Statement& st, size_t& i) {
        ParseVisitor v(*this, st);
        double p = 1, n = 1;
        detail::Limits prob{.lo = 0, .hi = 1};
        if (st.name == "SomeOfAugmentationContainer") v.NumberParam("n", n, {.lo = 1, .integer = true, .required = true});
        if (st.name != "SequentialAugmentationContainer") v.NumberParam("p", p, prob);
        unknown_params(st, v.names);
        std::vector<AugmentationPtr> children;
        for (;;) {
            if (i == stmts_.size())
                fail(st.at, st.name + " is not closed: missing End (after line " + std::to_string(lines_.size()) + ")");
            if (is_end(stmts_[i].name)) {
                ++i;
                break;
            }
            children.push_back(parse_one(i));
        }
        if (st.name == "SequentialAugmentationContainer")
            return std::make_shared<SequentialAugmentationContainer>(std::move(children));
        if (st.name == "OneOfAugmentationContainer")
            return std::make_shared<OneOfAugmentationContainer>(p, std::move(children));
        if (n > double(children.size())) {
            const Param* np = find(st, "n");
            fail(np->value.at, "n=" + FormatNumber(n) + " is out of bounds: SomeOfAugmentationContainer has " +
                                   std::to_string(children.size()) + " children");
        }
        return std::make_shared<SomeOfAugmentationContainer>(int(n), p, std::move(children));
    }

    static Param* find(Statement& st, const std::string& name) {
        for (Param& p : st.params)
            if (p.name == name) return &p;
        return nullptr;
    }

    void unknown_params(const Statement& st, const std::vector<std::string>& names) const {
        for (const Param& p : st.params) {
            if (p.used) continue;
            std::string list;
            for (const std::string& n : names) list += (list.empty() ? "" : ", ") + n;
            fail(p.at, "unknown parameter '" + p.name + "' for " + st.name + " (its parameters: " +
                           (list.empty() ? std::string("none") : list) + ")");
        }
    }

    static std::string suggestion(const std::string& name) {
        // the usual slip: a known name in another case, or without the Aug prefix
        for (const char* c : {"Rotate", "ResizeDim", "ResizeScale", "Flip", "Mirror", "Transpose", "ElasticTransform",
                              "GridDistortion", "OpticalDistortion", "Affine", "CenterCrop", "RandomCrop",
                              "RandomResizedCrop", "ToFloat32", "DivBy255", "GaussianBlur", "AdditiveLaplaceNoise",
                              "AdditivePoissonNoise", "GaussianNoise", "GammaContrast", "Brightness", "Contrast",
                              "CoarseDropout", "Salt", "Pepper", "SaltAndPepper", "Normalize", "ScaleTo", "CLAHE"}) {
            const std::string full = std::string("Aug") + c;
            auto lower = [](std::string x) {
                for (char& ch : x) ch = char(std::tolower(static_cast<unsigned char>(ch)));
                return x;
            };
            if (lower(name) == lower(full) || lower(name) == lower(c)) return " (did you mean " + full + "?)";
        }
        return "";
    }

    // Fills an augmentation's parameters from a statement; absent ones keep their defaults.
    class ParseVisitor final : public detail::ParamVisitor {
    public:
        ParseVisitor(const Parser& p, Statement& st) : p_(p), st_(st) {}
        std::vector<std::string> names;

        void RangeParam(const char* name, Range& r, const detail::Limits& l) override {
            const Value* v = get(name, l.required);
            if (!v) return;
            if (v->kind == Value::Number) r = {v->numbers[0], v->numbers[0]};
            else if (v->kind == Value::Range) r = {v->numbers[0], v->numbers[1]};
            else wrong(name, *v, "a range [a,b] (or a number)");
            for (double x : r) bound(name, *v, l, x);
        }
        void NumberParam(const char* name, double& x, const detail::Limits& l) override {
            const Value* v = get(name, l.required);
            if (!v) return;
            if (v->kind != Value::Number) wrong(name, *v, "a number");
            x = v->numbers[0];
            bound(name, *v, l, x);
        }
        void VectorParam(const char* name, std::vector<double>& x, const detail::VectorLimits& l) override {
            const Value* v = get(name, l.required);
            if (!v) return;
            if (!(v->kind == Value::Vector || (l.number_ok && v->kind == Value::Number)))
                wrong(name, *v, l.number_ok ? "a vector (v1,v2,...) or a number" : "a vector (v1,v2,...)");
            if (v->numbers.empty() && l.may_be_empty) {
                x.clear();
                return;
            }
            if (v->numbers.size() < l.min_size || v->numbers.size() > l.max_size)
                p_.fail(v->at, st_.name + ": " + name + " needs " + sizes(l) + " values, got " +
                                   std::to_string(v->numbers.size()));
            for (double e : v->numbers) bound(name, *v, l.each, e);
            x = v->numbers;
        }
        void InterpParam(const char* name, InterpolationType& t) override {
            const Value* v = get(name, false);
            if (!v) return;
            std::string names_ok;
            if (v->kind != Value::String) wrong(name, *v, "a string such as \"linear\"");
            if (!detail::InterpFromName(v->text, t, names_ok))
                p_.fail(v->at, st_.name + ": " + name + " \"" + v->text + "\" is not one of " + names_ok);
        }
        void BorderParam(const char* name, BorderType& t) override {
            const Value* v = get(name, false);
            if (!v) return;
            std::string names_ok;
            if (v->kind != Value::String) wrong(name, *v, "a string such as \"constant\"");
            if (!detail::BorderFromName(v->text, t, names_ok))
                p_.fail(v->at, st_.name + ": " + name + " \"" + v->text + "\" is not one of " + names_ok);
        }

    private:
        const Value* get(const char* name, bool required) {
            names.emplace_back(name);
            Param* p = find(st_, name);
            if (!p) {
                if (required)
                    p_.fail(st_.at, st_.name + ": the required parameter '" + name + "' is missing");
                return nullptr;
            }
            p->used = true;
            return &p->value;
        }
        [[noreturn]] void wrong(const char* name, const Value& v, const char* want) const {
            p_.fail(v.at, st_.name + ": " + name + " must be " + want + ", got " + v.kind_name());
        }
        void bound(const char* name, const Value& v, const detail::Limits& l, double x) const {
            const std::string why = detail::Violation(l, x);
            if (!why.empty())
                p_.fail(v.at, st_.name + ": " + name + " is out of bounds: it " + why + ", got " + FormatNumber(x));
        }
        static std::string sizes(const detail::VectorLimits& l) {
            if (l.min_size == l.max_size) return std::to_string(l.min_size);
            if (l.max_size == SIZE_MAX) return "at least " + std::to_string(l.min_size);
            return std::to_string(l.min_size) + " to " + std::to_string(l.max_size);
        }
        const Parser& p_;
        Statement& st_;
    };

    std::string src_;
    BlankFn blank_;
    std::vector<std::string> lines_;
    std::vector<Statement> stmts_;
};

}  // namespace

AugmentationPtr AugmentationFactory::create(std::istream& is, const std::string& source_name) {
    return Parser(is, source_name, &AugmentationFactory::Blank).Parse();
}

AugmentationPtr AugmentationFactory::create(const std::filesystem::path& file) {
    std::ifstream in(file);
    ECVL_CHECK(in.good(), "AugmentationFactory: cannot open the augmentation file " << file);
    return create(in, file.string());
}

AugmentationPtr AugmentationFactory::FromText(const std::string& text, const std::string& source_name) {
    std::istringstream in(text);
    return create(in, source_name);
}

}  // namespace ecvl
