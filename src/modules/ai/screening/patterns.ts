/**
 * Screening features, grouped by the category they are evidence of. Each has a weight: the
 * probability-like strength of that evidence alone. Patterns run over lower-cased NFKC views
 * (see normalize.ts); `[^.\n]{0,N}` gaps keep matches inside one sentence and bound the work.
 * `benign`: words that, inside the matched span, make a software or everyday reading likely
 * ("ignore all files matching these rules in .gitignore") and cut the weight.
 */
export const categories = [
  "instruction_override",
  "system_prompt_exfiltration",
  "roleplay_jailbreak",
  "delimiter_smuggling",
  "indirect_injection",
  "encoded_obfuscation",
  "privilege_claim",
] as const;
export type Category = (typeof categories)[number];

export interface Feature {
  category: Category;
  pattern: RegExp;
  weight: number;
  benign?: RegExp;
  /** Matched against the original text (case matters), not the lower-cased views. */
  raw?: boolean;
}

const SOFTWARE = /\b(git|gitignore|\.gitignore|eslint|lint(er|ing)?|prettier|files?|folders?|director(y|ies)|warnings?|errors?|compiler|typescript|css|cache|whitespace|case|column|headers?|cookies?|robots|npm|docker|exceptions?|tests?|commits?|emails?|spam|notifications?|calls?|noise|diet|doctor|recipe|grammar|spelling)\b/;

const f = (category: Category, weight: number, pattern: RegExp, benign?: RegExp): Feature => ({ category, weight, pattern, ...(benign ? { benign } : {}) });

// English building blocks.
const OVERRIDE_VERB = String.raw`(?:ignore|ignoring|disregard|forget|override|overrule|bypass|skip|drop|abandon|discard|neglect|set aside|throw out|dismiss|cancel|void|nullify|erase|wipe)`;
const SCOPE = String.raw`(?:previous|prior|above|earlier|preceding|all|any|every|your|the|these|those|system|original|initial|existing|old|former|default|built-in|safety|developer)`;
const RULES = String.raw`(?:instructions?|rules?|prompts?|directions?|guidelines?|guardrails?|directives?|constraints?|programming|polic(?:y|ies)|restrictions?|commands?|orders?|training|filters?|limitations?|boundaries|protocols?)`;
const REVEAL = String.raw`(?:reveal|show|print|display|output|repeat|recite|dump|leak|expose|share|disclose|tell me|give me|write out|spell out|copy|paste|list|return|quote|echo|provide|send me|read back|translate)`;
const HIDDEN = String.raw`(?:system|initial|original|hidden|secret|internal|developer|pre-?prompt|above|previous|first|starting|confidential|base|full|entire|exact|complete)`;
const PROMPT = String.raw`(?:prompts?|instructions?|messages?|rules?|guidelines?|configuration|directives?|context|preamble|setup)`;

const rawFeatures: Feature[] = [
  // ── instruction override ──
  f("instruction_override", 0.85, new RegExp(String.raw`\b${OVERRIDE_VERB}\b[^.!?\n]{0,40}\b${SCOPE}\b[^.!?\n]{0,30}\b${RULES}\b`), SOFTWARE),
  f("instruction_override", 0.8, /\b(ignore|disregard|forget)\s+(everything|all( of)? that|whatever)\b[^.\n]{0,40}\b(said|told|above|before|prior|earlier|previously)/),
  f("instruction_override", 0.6, /\bnew (instructions?|rules?|task|directives?|orders?|objective|mission)\s*[:：-]/),
  f("instruction_override", 0.45, /\bfrom now on,? (you|your|u)\b[^.\n]{0,40}\b(will|must|are|shall|should|respond|answer|act|ignore|only)\b/),
  f("instruction_override", 0.8, /\b(do not|don't|never) (follow|obey|listen to|adhere to) (your|the|any) (previous|prior|original|system|initial|earlier|developer)/),
  f("instruction_override", 0.75, /\b(stop|cease|quit) (following|obeying|adhering to) (your|the|all|any)\b/),
  f("instruction_override", 0.7, /\byour (real|true|actual|new|only) (instructions?|task|purpose|goal|job|objective) (is|are|now)\b/),
  f("instruction_override", 0.4, /\b(obey|follow) (only )?(my|these|the following) (instructions|commands|orders|rules)( only| instead)?\b/),
  f("instruction_override", 0.55, /\b(the )?(above|previous|prior) (instructions?|rules?|prompt) (is|are|was|were) (void|null|cancel+ed|obsolete|outdated|fake|wrong|revoked|superseded)/),
  f("instruction_override", 0.5, /\b(override|overriding|supersede|supersedes)\b[^.\n]{0,20}\b(all|any|previous|prior|safety|system|content)\b/),
  // Multilingual variants of "ignore the previous instructions".
  f("instruction_override", 0.85, /\b(ignore[rz]?|oublie[rz]?|ne tiens pas compte|ne tenez pas compte|fais abstraction)\b[^.\n]{0,40}\b(instructions?|consignes|règles|directives|ordres)\b[^.\n]{0,25}(précédent|antérieur|ci-dessus|initial|du système|d'origine)|\b(ignore[rz]?|oublie[rz]?)\b[^.\n]{0,15}\b(toutes|tes|vos) (les )?(instructions|consignes|règles|directives)/),
  f("instruction_override", 0.85, /\b(ignorier\w*|vergiss\w*|missachte\w*|übergeh\w*)\b[^.\n]{0,40}\b(vorherigen|bisherigen|obigen|vorigen|alle|deine|ihre|ursprünglichen|früheren)\b[^.\n]{0,30}(anweisung|instruktion|regeln|vorgaben|befehle|richtlinien)/),
  f("instruction_override", 0.85, /\b(ignora|olvida|omite|ignore|olvide|descarta|desatiende|haz caso omiso)\b[^.\n]{0,40}\b(instrucciones|reglas|indicaciones|directrices|órdenes)\b[^.\n]{0,25}(anteriores|previas|de arriba|originales|del sistema|iniciales)|\b(ignora|olvida|ignore|olvide)\b[^.\n]{0,15}\b(tus|todas las|sus) (instrucciones|reglas|indicaciones|directrices)/),
  f("instruction_override", 0.85, /\b(ignora|dimentica|trascura|non considerare)\b[^.\n]{0,40}\b(istruzioni|regole|indicazioni|direttive)\b[^.\n]{0,25}(precedenti|di sistema|iniziali|originali|sopra)|\b(ignora|dimentica)\b[^.\n]{0,15}\b(tutte le|le tue) (istruzioni|regole)/),
  f("instruction_override", 0.85, /\b(ignore|ignora|esqueça|esqueca|desconsidere|despreze)\b[^.\n]{0,40}\b(instruções|instrucoes|regras|orientações|diretrizes)\b[^.\n]{0,25}(anteriores|do sistema|iniciais|originais|acima)|\b(ignore|ignora|esqueça|esqueca)\b[^.\n]{0,15}\b(todas as|suas|tuas) (instruções|instrucoes|regras)/),
  f("instruction_override", 0.85, /\b(negeer|vergeet)\b[^.\n]{0,40}\b(instructies|regels|opdrachten|richtlijnen)\b/),
  f("instruction_override", 0.85, /\b(zignoruj|ignoruj|zapomnij)\b[^.\n]{0,40}\b(instrukcj\w*|polece\w*|zasad\w*|reguł\w*)/),
  f("instruction_override", 0.85, /(игнорируй|игнорируйте|забудь|забудьте|проигнорируй|проигнорируйте|не обращай внимания на|отбрось|отмени)[^.\n]{0,40}(инструкци|правил|указани|команд|ограничени)/),
  f("instruction_override", 0.85, /(ігноруй|забудь|ігноруйте)[^.\n]{0,40}(інструкці|правил|вказівк)/),
  f("instruction_override", 0.85, /(忽略|忽视|无视|忘记|忘掉|不要理会|跳过|忽略掉|無視|忽略所有)[^。！\n]{0,25}(指令|指示|说明|規則|规则|提示|命令|要求|設定|设定)/),
  f("instruction_override", 0.85, /(これまで|以前|上記|前|全て|すべて)[^。\n]{0,10}(の)?(指示|命令|ルール|プロンプト|設定)[^。\n]{0,6}(を)?(無視|忘れ)|(指示|命令|ルール)[^。\n]{0,6}(を)?(無視して|忘れて)/),
  f("instruction_override", 0.85, /(이전|앞의|위의|모든|기존)[^.\n]{0,12}(지시|명령|규칙|지침|안내)[^.\n]{0,10}(무시|잊어|잊고)/),
  f("instruction_override", 0.85, /(تجاهل|انس|أهمل|تجاهلي|لا تلتزم)[^.\n]{0,40}(التعليمات|الأوامر|القواعد|التوجيهات|تعليمات)/),
  f("instruction_override", 0.85, /\b(önceki|tüm|bütün|yukarıdaki)\b[^.\n]{0,25}(talimat|kural|komut|yönerge)\w*[^.\n]{0,20}(yok ?say|görmezden gel|unut)|\b(yok ?say|görmezden gel|unut)\w*[^.\n]{0,30}(talimat|kural|komut)/),
  f("instruction_override", 0.85, /(पिछले|सभी|पहले के|ऊपर के)[^।\n]{0,25}(निर्देश|नियम|आदेश)[^।\n]{0,25}(अनदेखा|भूल|नज़रअंदाज़|नजरअंदाज)|(अनदेखा|भूल जाओ|नज़रअंदाज़)[^।\n]{0,30}(निर्देश|नियम)/),
  f("instruction_override", 0.85, /\b(bỏ qua|quên|phớt lờ)\b[^.\n]{0,40}(hướng dẫn|chỉ thị|quy tắc|lệnh)/),
  f("instruction_override", 0.85, /\b(abaikan|lupakan|acuhkan)\b[^.\n]{0,40}\b(instruksi|perintah|aturan|petunjuk)/),
  f("instruction_override", 0.85, /\b(ignorera|glöm|ignorer|glem|ohita|unohda)\b[^.\n]{0,40}\b(instruktioner|instruksjoner|instruksene|regler|ohjeet|säännöt|tidigare)/),

  // ── system prompt exfiltration ──
  f("system_prompt_exfiltration", 0.8, new RegExp(String.raw`\b${REVEAL}\b[^.?!\n]{0,40}\b${HIDDEN}\s*${PROMPT}\b`)),
  f("system_prompt_exfiltration", 0.55, /\byour (system ?prompt|system message|initial prompt|hidden (prompt|instructions)|instructions verbatim|original instructions|pre-?prompt)\b/),
  f("system_prompt_exfiltration", 0.8, /\b(repeat|print|output|echo|copy|write|return)\b[^.\n]{0,30}\b(everything|all|the text|the words|every word|each word|verbatim|word for word)\b[^.\n]{0,40}\b(above|before|preceding|so far|prior to|up to this)/),
  f("system_prompt_exfiltration", 0.6, /\bwhat (were|are|was) you (told|instructed|programmed|given|asked)\b[^.\n]{0,30}\b(before|initially|originally|at the start|to do|in your prompt)/),
  f("system_prompt_exfiltration", 0.7, /\b(canary|secret (key|token|word|phrase|password)|api key|password|token)s?\b[^.\n]{0,30}\b(in|from|inside|within) (your|the) (system )?(prompt|instructions|context|configuration|memory)/),
  f("system_prompt_exfiltration", 0.55, /\b(begin|start) (your (answer|reply|response)|with) ["']?(you are|my instructions|system)/),
  f("system_prompt_exfiltration", 0.8, /(révèle|montre|affiche|répète|donne|dis|imprime|écris)[^.\n]{0,30}(prompt (du )?système|instructions (initiales|système|du système|cachées|secrètes|d'origine)|ton prompt|tes instructions|vos instructions|message système)/),
  f("system_prompt_exfiltration", 0.8, /\b(zeig|zeige|gib|verrate|wiederhole|nenne|ausgeben|gib aus|drucke)\w*\b[^.\n]{0,30}(systemprompt|system-prompt|systemanweisung|systemnachricht|deine anweisungen|ihre anweisungen|ursprünglichen anweisungen|versteckten anweisungen|anfangsanweisungen)/),
  f("system_prompt_exfiltration", 0.8, /(revela|muestra|muéstrame|imprime|repite|dime|enséñame|escribe)[^.\n]{0,30}(prompt del sistema|instrucciones (del sistema|iniciales|ocultas|originales|secretas)|tus instrucciones|mensaje del sistema)/),
  f("system_prompt_exfiltration", 0.8, /(rivela|mostra|mostrami|stampa|ripeti|dimmi|scrivi)[^.\n]{0,30}(prompt di sistema|istruzioni (di sistema|iniziali|nascoste|originali|segrete)|le tue istruzioni|messaggio di sistema)/),
  f("system_prompt_exfiltration", 0.8, /(revele|mostre|mostra|imprima|repita|diga|escreva|me mostre)[^.\n]{0,30}(prompt do sistema|instruções (do sistema|iniciais|ocultas|originais|secretas)|suas instruções|mensagem do sistema)/),
  f("system_prompt_exfiltration", 0.8, /(toon|herhaal|geef|onthul|laat)[^.\n]{0,30}(systeemprompt|systeeminstructies|je instructies|jouw instructies)/),
  f("system_prompt_exfiltration", 0.8, /(pokaż|ujawnij|wypisz|powtórz|podaj)[^.\n]{0,30}(prompt systemowy|instrukcje systemowe|swoje instrukcje|twoje instrukcje|ukryte instrukcje)/),
  f("system_prompt_exfiltration", 0.8, /(покажи|раскрой|выведи|повтори|напиши|скажи|открой|процитируй)[^.\n]{0,30}(системн\S* (промпт|подсказк|инструкци|сообщени)|свои инструкции|твои инструкции|исходн\S* (инструкци|промпт)|скрыт\S* инструкци)/),
  f("system_prompt_exfiltration", 0.8, /(显示|告诉我|输出|打印|泄露|透露|重复|展示|给我看|說出|显示出)[^。\n]{0,15}(系统提示|系統提示|系统指令|系统消息|初始指令|你的指令|隐藏指令|提示词|系統指令)/),
  f("system_prompt_exfiltration", 0.8, /(システムプロンプト|初期指示|元の指示|隠された指示|システムメッセージ)[^。\n]{0,15}(表示|教え|出力|見せ|繰り返|書い)/),
  f("system_prompt_exfiltration", 0.8, /(시스템 프롬프트|시스템 지침|초기 지시|시스템 메시지|숨겨진 지시)[^.\n]{0,15}(보여|알려|출력|공개|말해)/),
  f("system_prompt_exfiltration", 0.8, /(اكشف|أظهر|اعرض|اطبع|كرر|أخبرني)[^.\n]{0,30}(موجه النظام|تعليمات النظام|تعليماتك|رسالة النظام)/),
  f("system_prompt_exfiltration", 0.8, /(sistem istemi|sistem talimat|talimatlarını|sistem mesaj)\w*[^.\n]{0,20}(göster|yaz|söyle|açıkla|tekrarla|paylaş)/),
  f("system_prompt_exfiltration", 0.8, /(सिस्टम प्रॉम्प्ट|सिस्टम निर्देश|अपने निर्देश)[^।\n]{0,20}(दिखाओ|बताओ|दिखाएं|बताएं|लिखो)/),
  f("system_prompt_exfiltration", 0.8, /(hiển thị|tiết lộ|cho tôi xem|in ra|nhắc lại)[^.\n]{0,30}(lời nhắc hệ thống|hướng dẫn hệ thống|chỉ thị ban đầu)|(tampilkan|tunjukkan|ungkapkan)[^.\n]{0,30}(prompt sistem|instruksi sistem)/),

  // ── role-play jailbreak ──
  { category: "roleplay_jailbreak", weight: 0.55, pattern: /\bDAN\b|\bD\.A\.N\b/, raw: true },
  f("roleplay_jailbreak", 0.85, /\bdo anything now\b/),
  f("roleplay_jailbreak", 0.45, /\bjailbr(eak|oken|eaking)\b/),
  f("roleplay_jailbreak", 0.5, /\b(developer|god|sudo|debug|unrestricted|unfiltered|evil|chaos|dev|jailbreak|opposite|unlocked|uncensored) mode\b/),
  f("roleplay_jailbreak", 0.85, /\b(enable|activate|enter|switch to|turn on|you are (now )?in|engage)\b[^.\n]{0,15}\b(developer|god|sudo|debug|unrestricted|unfiltered|evil|chaos|dev|jailbreak|unlocked|uncensored) mode\b/),
  f("roleplay_jailbreak", 0.85, /\b(pretend|imagine|act|behave|roleplay|role-play|play the role|you are now|you're now|from now on you are|become|simulate|respond as)\b[^.\n]{0,60}\b(no|without|free of|free from|zero|not bound by|unbound by|ignore|ignoring|beyond)\b[^.\n]{0,20}\b(restrictions?|filters?|rules?|limits?|limitations|guidelines|censorship|morals?|ethics|boundaries|policies|safety|constraints)\b/),
  f("roleplay_jailbreak", 0.7, /\b(unrestricted|unfiltered|uncensored|amoral|unaligned|jailbroken|unethical|unbound)\b[^.\n]{0,20}\b(ai|assistant|model|chatbot|version|mode|persona|character|bot|llm)\b/),
  f("roleplay_jailbreak", 0.6, /\byou are (no longer|not) (an? )?(ai|assistant|chatgpt|claude|bound|restricted|limited|constrained)\b/),
  f("roleplay_jailbreak", 0.6, /\b(no|without|free from) (any )?(ethical|moral|content|safety) (guidelines|restrictions|filters|limits|constraints|considerations)/),
  f("roleplay_jailbreak", 0.45, /\b(can|will) (say|do|answer) anything\b[^.\n]{0,30}\b(no|without|even)\b/),
  f("roleplay_jailbreak", 0.55, /\b(never|don't|do not|won't) (refuse|decline|say (no|you can't|i can't|sorry))\b/),
  f("roleplay_jailbreak", 0.3, /\b(stay|remain) in character\b/),
  f("roleplay_jailbreak", 0.75, /(sin (ninguna )?(restricciones|filtros|límites|reglas)|sans (aucune )?(restrictions?|filtres?|limites|règles)|ohne (jegliche )?(einschränkungen|filter|regeln|grenzen)|senza (alcuna )?(restrizioni|filtri|regole|limiti)|sem (nenhuma )?(restrições|filtros|regras|limites)|без (каких-либо )?(ограничений|фильтров|правил|цензуры)|不受(任何)?(限制|约束)|没有(任何)?(限制|规则|过滤)|制限(なし|のない|を解除)|제한 없는|제한없이|bez (żadnych )?(ograniczeń|filtrów)|kısıtlama(sız| olmadan)|بدون (أي )?(قيود|قواعد))/),
  f("roleplay_jailbreak", 0.4, /(actúa como|finge (que|ser)|tu es maintenant|agis comme|du bist jetzt|tu sei ora|agora você é|ты теперь|теперь ты|你现在是|扮演|あなたは今から|너는 이제|jesteś teraz|artık sen)/),

  // ── delimiter / format smuggling ──
  f("delimiter_smuggling", 0.85, /<\|?\s*(im_start|im_end|system|endoftext|eot_id|start_header_id|end_header_id|begin_of_text|assistant|user)\s*\|?>/),
  f("delimiter_smuggling", 0.8, /\[\/?inst\]|<<\/?sys>>|\[\/?system\]/),
  f("delimiter_smuggling", 0.8, /<\/?(start|end)_of_turn>|<\|?(eot_id|eom_id|start_header_id|end_header_id|endoftext|im_sep)\|?>|<\/s>\s*<s>/),
  f("delimiter_smuggling", 0.6, /(^|\n)\s*(human|assistant|user)\s*:\s*[^\n]{0,200}\n+\s*(assistant|system|human)\s*:/),
  f("delimiter_smuggling", 0.65, /(^|\n)\s*#{1,4}\s*(sistema|système|система|系统|システム|시스템|systeem|systemu)\s*[:：]/),
  f("delimiter_smuggling", 0.65, /\[(système|sistema|система|系统|システム)\]|<\/?(sistema|système|system_message|sys_msg|developer_message)\b/),
  f("delimiter_smuggling", 0.7, /<\/?\s*(system|sys|system_prompt|instructions?|admin|developer|override)\s*>/),
  f("delimiter_smuggling", 0.6, /(^|\n)\s*#{1,4}\s*(system|instruction|new instructions|admin|override)\b\s*:?/),
  f("delimiter_smuggling", 0.45, /(^|\n)\s*(system|developer)\s*[:：]\s*\S/),
  f("delimiter_smuggling", 0.6, /\b(end|begin|start) of (the )?(user|system|previous|original) (input|prompt|message|instructions|conversation|context)\b/),
  f("delimiter_smuggling", 0.55, /(-{3,}|={3,}|\*{3,})\s*(system|admin|new instructions|end of|override)/),
  f("delimiter_smuggling", 0.65, /\{\{\s*system|\(system( message| note| override)?:|\[(system|admin) (message|note|override|instruction)s?\]/),
  f("delimiter_smuggling", 0.55, /"role"\s*:\s*"system"\s*,\s*"content"\s*:\s*"[^"]{0,80}(ignore|override|reveal|no restrictions|unrestricted)/),

  // ── indirect injection (instructions addressed to a model inside content) ──
  f("indirect_injection", 0.75, /\b(if you are|you are|to) an? (ai|llm|language model|assistant|chatbot|bot|gpt|agent)\b[^.\n]{0,40}\b(reading|processing|summari[sz]ing|analy[sz]ing|parsing|reviewing|seeing) (this|these)/),
  f("indirect_injection", 0.7, /\b(note|message|instructions?|attention|important) (to|for) (the |any )?(ai|assistant|llm|model|chatbot|language model|summari[sz]er|agent|gpt)s?\b/),
  f("indirect_injection", 0.55, /\b(when|while|if) (summari[sz]ing|processing|reading|translating|analy[sz]ing|reviewing) this (document|page|text|email|file|message|resume|cv|article)\b/),
  f("indirect_injection", 0.7, /\b(ai|assistant|llm|model|agent|chatbot)s? (reading|processing|summari[sz]ing|parsing) this\b/),
  f("indirect_injection", 0.65, /\b(do not|don't|never) (tell|inform|mention (this )?to|reveal (this )?to|alert|notify) the user\b/),
  f("indirect_injection", 0.7, /\b(secretly|silently|covertly|quietly|without (the user|them|anyone) (knowing|noticing))\b[^.\n]{0,40}\b(send|forward|include|add|insert|exfiltrate|email|post|upload|append)/),
  f("indirect_injection", 0.6, /!\[[^\]]*\]\(https?:\/\/[^)\s]*[?&][a-z_]{1,12}=/),
  f("indirect_injection", 0.75, /\b(send|forward|post|upload|email|transmit|leak)\b[^.\n]{0,40}\b(conversation|chat history|user'?s? (data|messages|information)|credentials|passwords?|api keys?|tokens?|secrets?)\b[^.\n]{0,30}\b(to|at) (https?:|[\w.-]+@|http|this (url|address|endpoint))/),
  f("indirect_injection", 0.6, /\b(rate|rank|score|recommend|classify) this (candidate|applicant|resume|document|product|review)\b[^.\n]{0,30}\b(highest|as the best|10\/10|positively|top)/),
  f("indirect_injection", 0.7, /(si vous êtes une? (ia|intelligence artificielle)|wenn du eine ki bist|si eres una? (ia|inteligencia artificial)|если ты (ии|нейросеть|языковая модель)|如果你是(一个)?(ai|人工智能|语言模型)|もしあなたがai|als je een ai bent|se sei un'?(ia|intelligenza artificiale)|se você é uma? (ia|inteligência artificial))/),
  f("indirect_injection", 0.65, /(note pour l'ia|hinweis (für|an) die ki|nota para (la|a) ia|примечание для (ии|модели)|给ai的(提示|说明)|aiへの指示|nota per l'ia)/),

  // ── privilege claims ──
  f("privilege_claim", 0.45, /\b(i am|i'm|this is|speaking as|as)\b[^.\n]{0,15}\b(your|the|an?)\s*(developer|creator|administrator|admin|owner|operator|system administrator|sysadmin|openai|anthropic|maker|programmer)s?\b/),
  f("privilege_claim", 0.45, /\b(admin|administrator|root|sudo|developer|superuser|maintenance|god|system)[ -](access|override|privileges?|rights|authori[sz]ation|command|clearance|level)\b/),
  f("privilege_claim", 0.4, /\b(i (have|hold|was given)|with|granted|grant me|give me)\b[^.\n]{0,20}\b(admin|root|elevated|full|special|unlimited|superuser) (access|privileges|permissions|clearance|rights)\b/),
  f("privilege_claim", 0.6, /\bauthori[sz]ed (by|to)\b[^.\n]{0,30}\b(openai|anthropic|the developers?|the admin|security team|bypass|override|ignore|disable)/),
  f("privilege_claim", 0.45, /\b(authorization|auth|override|security|access|admin) (code|token|key|password)\s*[:=]/),
  f("privilege_claim", 0.5, /\b(safety|content|security) (filters?|restrictions?|checks?|protocols?) (are|have been|is) (now )?(disabled|off|lifted|removed|suspended|deactivated)/),
  f("privilege_claim", 0.5, /(je suis (ton|votre|l')(développeur|administrateur|créateur)|ich bin (dein|ihr|der) (entwickler|administrator|admin|ersteller)|soy (tu|el|su) (desarrollador|administrador|creador)|я (твой|ваш) (разработчик|администратор|создатель)|我是你的(开发者|管理员|创造者)|私はあなたの(開発者|管理者)|sono il tuo (sviluppatore|amministratore)|sou (seu|o) (desenvolvedor|administrador))/),
];

/**
 * Questions and discussions about attacks (security teams, students) quote attack strings. A
 * quoted match in a text that talks about injection is discounted, not ignored.
 */
export const DISCUSSION = /\b(security (awareness )?training|awareness training|lesson|teach(er|ing)?|students?|attackers? (use|try|might)|how attackers|blindly trust|doesn't follow instructions|don't follow instructions|instructions inside (the )?(documents?|content|pages?)|sicherheitsschulung|blind vertrauen|sensibilisation|formation (à la )?sécurité|capacitación|formazione sulla sicurezza|prompt injection|injection attacks?|jailbreak(s|ing)? (work|attempts?|attacks?|prompts?)|red[- ]team|(detect|prevent|defend|mitigate|protect|guard|filter|classify|block)\w* (against )?(this|these|such|prompt|injection|attacks?|jailbreaks?)|security (research|training|awareness|team|review)|example of (a|an) (attack|injection|jailbreak)|is (this|that) (a|an) (attack|injection|jailbreak)|how (do|does|can|would|could) (attackers?|people|someone|hackers?)|what (is|are) (a |an )?(prompt injection|jailbreak)|paper|research|classifier|dataset|benchmark|owasp|llm01)\b|(injection de prompt|prompt-injection|inyección de prompt|iniezione di prompt|injeção de prompt|инъекци|提示注入|プロンプトインジェクション|프롬프트 인젝션)/;

/** The features as written: their keywords start and end with ASCII letters, where \\b is right and fast. */
export const features: Feature[] = rawFeatures;
