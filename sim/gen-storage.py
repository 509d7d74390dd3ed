#!/usr/bin/env python3
# Writes the delegating impls of sim/src/storage.rs from the relay's storage traits:
#   python3 sim/gen-storage.py  (prints them; paste below the hand-written part)
import re,sys
def methods(path, trait):
    s=open(path).read()
    i=s.index(f'pub trait {trait}')
    j=s.index('{',i)+1
    depth=1;k=j
    while depth:
        if s[k]=='{':depth+=1
        elif s[k]=='}':depth-=1
        k+=1
    body=s[j:k-1]
    # strip comments
    body='\n'.join(l for l in body.split('\n') if not l.strip().startswith('//'))
    out=[]
    for m in re.finditer(r'((?:async )?fn \w+[^;{]*)([;{])',body):
        sig=m.group(1).strip(); term=m.group(2)
        if term=='{':
            out.append(('default',sig)); continue
        out.append(('req',sig))
    return out
def split_args(a):
    parts=[];depth=0;cur=''
    for ch in a:
        if ch in '<([': depth+=1
        if ch in '>)]': depth-=1
        if ch==',' and depth==0: parts.append(cur);cur=''
        else: cur+=ch
    if cur.strip(): parts.append(cur)
    return [p.strip() for p in parts if p.strip()]
def gen(trait, ms):
    o=[f'#[async_trait]\nimpl {trait} for SimStorage {{']
    for kind,sig in ms:
        if kind=='default': continue
        sig=' '.join(sig.split())
        m=re.match(r'(async )?fn (\w+)(<[^>]*>)?\((.*)\)\s*(->\s*(.*))?$',sig)
        asy,name,gen_,args,_,ret=m.groups()
        args=split_args(args)
        names=[a.split(':')[0].strip() for a in args[1:]]
        call=f'self.inner.{name}({", ".join(names)})'
        if not asy:
            o.append(f'    {sig} {{\n        {call}\n    }}\n')
            continue
        if ret and ret.startswith('Result<'):
            o.append(f'    {sig} {{\n        self.enter("{name}")?;\n        let r = crate::inline::block({call});\n        self.after("{name}", r).await\n    }}\n')
        else:
            o.append(f'    {sig} {{\n        crate::inline::block({call})\n    }}\n')
    o.append('}\n')
    return '\n'.join(o)
a=methods('server/src/storage/mod.rs','Storage')
b=methods('server/src/storage/privacy.rs','PrivacyStorage')
print('// defaults skipped:', [s for k,s in a+b if k=='default'], file=sys.stderr)
print(gen('PrivacyStorage',b))
print(gen('Storage',a))
